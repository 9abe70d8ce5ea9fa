"""Section 1: train the dense network, prune it through the profile's levels, and write ``accuracy.json``."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from .. import data as imagenette
from .. import paths, runs
from ..checkpoint import save_json
from ..pipeline import load_level, load_splits, parse_levels, prune_dense, train_dense
from ..pruning import sparsity_report
from ..schedule import level_tag
from ..training import TrainConfig


def run_training_stage(*, data: str | None, profile: str, out_dir: Path, levels: str, image_size: int,
                       epochs: int, batch_size: int, lr: float, finetune_epochs: int, finetune_lr: float,
                       label_smoothing: float, flat_fraction: float, seed: int = 0, subset_per_class: int = 0,
                       val_per_class: int = 0, device: str = "auto", method: str = "global") -> dict:
    """Stage 1 of the book: train the dense model, prune through ``levels``, write ``out_dir/accuracy.json``.

    Checkpoints go to ``checkpoints/<profile>/`` and are reused (or resumed) when present.
    """
    dense_cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, image_size=image_size, seed=seed,
                            label_smoothing=label_smoothing, flat_fraction=flat_fraction)
    tune_cfg = dataclasses.replace(dense_cfg, epochs=finetune_epochs, lr=finetune_lr)
    chosen_levels = parse_levels(levels)  # every parameter is checked before the data is loaded
    splits = load_splits(data, subset_per_class or None, seed=seed, val_per_class=val_per_class or None)
    run = paths.checkpoint_dir(profile)
    dense = train_dense(splits, dense_cfg, run / "dense", device=device)
    pruned = prune_dense(splits, run / "dense", chosen_levels, tune_cfg, run / method, method=method,
                         device=device)
    dense_model = load_level(run, 0.0)
    identity = lambda folder: runs.file_digest(folder / runs.RUN_FILE)  # noqa: E731  (what the checkpoint is)
    rows = [{"sparsity_target": 0.0, "sparsity": sparsity_report(dense_model)["global"],
             "val_top1": dense["val_top1"], "val_top1_before_finetune": None, "val_per_class": dense["val_per_class"],
             "layers": {k: v["sparsity"] for k, v in sparsity_report(dense_model)["layers"].items()},
             "identity": identity(run / "dense")}]
    for r in pruned:
        rows.append({"sparsity_target": r["sparsity_target"], "sparsity": r["sparsity"]["global"],
                     "identity": identity(run / method / f"level_{level_tag(r['sparsity_target'])}"),
                     "val_top1": r["val_top1"], "val_top1_before_finetune": r["val_top1_before_finetune"],
                     "val_per_class": r["val_per_class"], "finetune_seconds": r.get("finetune_seconds"),
                     "layers": {k: v["sparsity"] for k, v in r["sparsity"]["layers"].items()}})
    summary = {"levels": rows, "dense_history": dense["history"], "classes": list(imagenette.CLASSES),
               "method": method, "config": {"dense": dataclasses.asdict(dense_cfg),
                                            "finetune": dataclasses.asdict(tune_cfg)},
               "n_train": len(splits[0]), "n_val": len(splits[1])}
    save_json(summary, Path(out_dir) / "accuracy.json")
    return summary
