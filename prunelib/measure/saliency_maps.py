"""Section 2: saliency maps of a few validation images at every pruning level (the paper's qualitative figure).

Each method of the profile in its figure setting (:data:`prunelib.saliency.METHODS`; IG: captum defaults, 50 steps
Gauss-Legendre, negatives clipped to 0; VG: the absolute gradient). The images are chosen once (:func:`prunelib.selection.one_per_class`): for each requested class, the first image
of a seeded shuffle that every level not near chance classifies correctly (else the first the dense model gets
right).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import data as imagenette
from ..checkpoint import save_json
from ..metrics import gini
from ..pictures import load_photos, save_photos
from ..progress import progress_bar
from ..saliency import PAPER_METHODS, methods as chosen_methods
from ..selection import one_per_class
from ..models import device_of
from .common import inputs

PAPER_CLASSES = "church,parachute,English springer"


def saliency_grid(models: dict[float, nn.Module], val: imagenette.Split, classes: str, out_dir: Path, *,
                  image_size: int, seed: int = 0, methods: str = PAPER_METHODS,
                  exclude: tuple[float, ...] = ()) -> dict:
    """Write ``out_dir/images.jpg`` (the K images, a JPEG mosaic at their own size), ``out_dir/maps.npz`` (each
    method's maps per level) and ``out_dir/maps.json`` (labels, predictions, Gini, the methods, the images' shape).

    ``models``: networks in eval mode keyed by sparsity (0.0 = dense); ``exclude``: those near chance, which do not
    restrict the images chosen. ``maps.npz``: one float16 (L, K, S, S) array per method (a figure's precision) (``VG``, ``IG``, ..., the
    figure setting of :data:`prunelib.saliency.METHODS`); ``levels`` (L,). Read them back with
    :func:`load_maps`.
    """
    explainers = chosen_methods(methods)
    names = [c.strip() for c in classes.split(",") if c.strip()]
    idx = torch.tensor(one_per_class(models, val, names, image_size, seed, exclude=exclude))
    maps = {name: [] for name in explainers}
    info = {"levels": list(models), "classes": names, "val_index": idx.tolist(), "methods": list(explainers),
            "files": [val.files[i] for i in idx], "predictions": {}, "gini": {name: {} for name in explainers}}
    for sparsity, model in progress_bar(models.items(), desc="saliency maps"):
        x, y = inputs(val, idx, image_size, device_of(model))
        with torch.no_grad():
            prob = model(x).softmax(1)
        info["predictions"][str(sparsity)] = {"class": [imagenette.CLASSES[i] for i in prob.argmax(1).tolist()],
                                              "probability": prob.max(1).values.tolist()}
        for method, explainer in explainers.items():
            m = explainer.figure(model, x, y)
            maps[method].append(m.cpu().numpy())
            info["gini"][method][str(sparsity)] = gini(m).tolist()
    images = imagenette.denormalize(inputs(val, idx, image_size, torch.device("cpu"))[0])
    images = (images.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    save_photos(images, Path(out_dir) / "images.jpg")
    info["image_shape"] = list(images.shape)
    np.savez_compressed(Path(out_dir) / "maps.npz", levels=np.array(list(models)),
                        **{name: np.stack(m).astype(np.float16) for name, m in maps.items()})
    save_json(info, Path(out_dir) / "maps.json")
    return info


def load_maps(stage_dir: str | Path) -> dict:
    """``maps.npz``, ``maps.json`` and ``images.jpg`` written by
    :func:`saliency_grid`: the arrays (maps as float32), the labels and ``images``
    uint8 (K, S, S, 3)."""
    stage_dir = Path(stage_dir)
    with np.load(stage_dir / "maps.npz") as npz:
        arrays = {k: npz[k].astype(np.float32) if npz[k].dtype == np.float16 else npz[k] for k in npz.files}
    info = json.loads((stage_dir / "maps.json").read_text())
    images = load_photos(stage_dir / "images.jpg", tuple(info["image_shape"]))
    return {**arrays, **info, "images": images}
