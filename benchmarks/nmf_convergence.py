"""How many iterations CRAFT's NMF needs on real crops: the measurement behind ``prunelib.craft.factorization.MAX_ITER``.

    .venv/bin/python benchmarks/nmf_convergence.py --run checkpoints/noise/seed0 --image-size 128 \
        [--images 100] [--levels 0,0.5,0.9,0.98] [--classes "church,parachute,English springer"]

For every class and level it builds the matrix the concepts stage factorises (the crops of the class's first
``--images`` validation images that the dense network gets right, through the level's ``g``, as
:func:`prunelib.measure.concepts.class_concepts`), then fits scikit-learn's NMF (10 concepts, seed 0, its
default tolerance 1e-4) with the official cap of 200 iterations and with an ample cap of 20,000, and prints the
iterations the second fit needed, whether the first stopped at its cap, and both relative reconstruction
errors. The data: ``$PRUNELIB_DATA``, else ``../shared/data/imagenette2-224``.
"""
from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from prunelib import data
from prunelib.craft import batched_features, extract_crops, split_resnet
from prunelib.measure import IMAGE_SEED
from prunelib.measure.common import inputs
from prunelib.networks import load_network
from prunelib.schedule import level_tag
from prunelib.selection import choose_correct


def fit(a: np.ndarray, max_iter: int) -> tuple[int, float, bool]:
    """(iterations, relative reconstruction error, whether scikit-learn said it stopped at the cap)."""
    with warnings.catch_warnings(record=True) as caught:  # recorded and reported below, not hidden
        warnings.simplefilter("always", ConvergenceWarning)
        reducer = NMF(n_components=10, random_state=0, max_iter=max_iter)
        u = reducer.fit_transform(a)
    error = float(np.linalg.norm(a - u @ reducer.components_) / np.linalg.norm(a))
    return int(reducer.n_iter_), error, any(issubclass(w.category, ConvergenceWarning) for w in caught)


def level_checkpoint(run: str, level: float) -> Path:
    """The checkpoint of one level of a job's networks: ``dense/best.pt`` at 0, else ``global/level_XX/final.pt``."""
    return Path(run) / "dense" / "best.pt" if level == 0 else Path(run) / "global" / f"level_{level_tag(level)}" / "final.pt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="a checkpoint folder with dense/ and global/level_XX/")
    parser.add_argument("--image-size", type=int, required=True)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--levels", default="0,0.5,0.9,0.98")
    parser.add_argument("--classes", default="church,parachute,English springer")
    args = parser.parse_args()
    val = data.load_split(data.locate(os.environ.get("PRUNELIB_DATA") or "../shared/data/imagenette2-224"), "val")
    dense = load_network(level_checkpoint(args.run, 0.0))
    patch = max(2, round(64 * args.image_size / 224))
    print("class, level: iterations to converge | 200-iteration fit stopped at its cap | error at 200 -> converged")
    for name in args.classes.split(","):
        chosen = choose_correct({"dense": dense}, val, args.image_size, args.images, IMAGE_SEED, of_class=name,
                                pool_size=len(val), too_few="any")  # the images the sweep's concept metrics use
        x, _ = inputs(val, chosen.indices["dense"], args.image_size, torch.device("cpu"))
        for level in (float(v) for v in args.levels.split(",")):
            g, _ = split_resnet(load_network(level_checkpoint(args.run, level)))
            a = batched_features(g, extract_crops(x, patch), args.image_size, 64, torch.bfloat16).numpy()
            n_official, e_official, capped = fit(a, 200)
            n_full, e_full, not_converged = fit(a, 20_000)
            print(f"{name}, {100 * level:.0f} %: {n_full} iterations{' (NOT converged)' if not_converged else ''} | "
                  f"{'yes' if capped else 'no'} | {e_official:.5f} -> {e_full:.5f} ({a.shape[0]} crops)", flush=True)


if __name__ == "__main__":
    main()
