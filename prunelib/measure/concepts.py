"""Section 4: CRAFT concepts of a few classes at every pruning level, and their measured coherence, as a sweep's
job fits them on each of its networks (:mod:`prunelib.sweep.concepts`).

For each class: the first ``n_images`` validation images of the class (seeded order) that the dense model
classifies correctly (:func:`prunelib.selection.choose_correct`) — the same images at every level, so galleries
are comparable. Crops of
``round(64 * image_size / 224)`` px (the paper's 64 px at 224), 10 concepts, Sobol importance for the class;
coherence is measured in the dense model's feature space at every level.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .. import data as imagenette
from ..craft import Craft, concept_metrics, gallery_data, split_resnet
from ..craft.gallery import save_concepts
from ..schedule import level_tag


def reference_features(dense: torch.nn.Module, x: torch.Tensor, patch_size: int) -> torch.Tensor:
    """The dense model's features of the crops of images ``x`` (N, 3, S, S): ``(M, C)`` float32, the fixed space
    that coherence is judged in at every level (:meth:`prunelib.craft.Craft.features`, as its own fit computes them)."""
    return Craft(*split_resnet(dense), patch_size=patch_size).features(x)


def class_concepts(model: torch.nn.Module, x: torch.Tensor, class_name: str, *, n_concepts: int, patch_size: int,
                   seed: int, reference: torch.Tensor) -> tuple[Craft, np.ndarray, dict]:
    """CRAFT fitted on images ``x`` (N, 3, S, S) of ``class_name`` through ``model``: the fitted Craft, the Sobol
    importance of each concept for the class (r,), and :func:`prunelib.craft.concept_metrics` (coherence in the
    dense network's feature space, ``reference``: :func:`reference_features` of ``x``) with the NMF's iterations
    and the class's final-layer weights left."""
    g, h = split_resnet(model)
    craft = Craft(g, h, n_concepts=n_concepts, patch_size=patch_size, seed=seed).fit(x)
    class_id = imagenette.CLASSES.index(class_name)
    importances = craft.importance(x, class_id)
    metrics = {**concept_metrics(craft, importances, k=5, reference=reference),
               "nmf_iterations": craft.nmf_iterations, "class_weights_left": class_weights_left(model, class_id)}
    return craft, importances, metrics


def class_weights_left(model, class_id: int) -> int:
    """How many weights of the final layer's row for ``class_id`` survived pruning: with none, the class logit is
    the bias alone, the same for every input, and no concept can move it (its Sobol importances are all zero)."""
    return int((model.fc.weight[class_id] != 0).sum())


def gallery_path(stage_dir: str | os.PathLike, class_name: str, sparsity: float) -> Path:
    """Where the gallery of ``class_name`` at ``sparsity`` is stored in ``stage_dir`` (without suffix)."""
    return Path(stage_dir) / f"{class_name.replace(' ', '_')}_{level_tag(sparsity)}"


def save_gallery(out_dir: Path, craft: Craft, importances: np.ndarray, metrics: dict, images: torch.Tensor,
                 image_size: int, meta: dict) -> Path:
    """Save the gallery of a fitted ``craft`` (its most important concepts and their best crops,
    :func:`prunelib.craft.gallery_data`) with its ``metrics``; ``images``: the uint8 validation images (N, 3, H, W)
    it was fitted on; ``meta`` names at least ``class_name`` and ``sparsity``. Returns the gallery's JSON file."""
    display = imagenette.eval_batch(images, image_size)
    gallery = gallery_data(craft, (imagenette.denormalize(display) * 255).round().to(torch.uint8), importances,
                           n_show=min(5, craft.n_concepts))
    meta = {**meta, "pruning": f"{100 * meta['sparsity']:.0f} %", "n_images": len(images)}
    return save_concepts(gallery_path(out_dir, meta["class_name"], meta["sparsity"]), gallery, metrics, meta)


def notes(summary: dict) -> list[str]:
    """Sentences about what is unusual in a ``coherence.json``: images the dense model gets wrong, and all-zero
    Sobol importances with the reason."""
    out = []
    for name in summary["classes"]:
        m = summary["metrics"][name]
        if m["n_correct"] < m["n_images"]:
            out.append(f"{name}: the dense network classifies only {m['n_correct']} images of the class correctly "
                       f"(too little training to pick correct ones); {m['n_images']} of them are explained regardless.")
        for s in summary["levels"]:
            v, level = m[str(s)], f"{100 * s:.0f} %"
            if v["importance_entropy"] is None:
                why = ("the final layer keeps no weight for the class, so its score is the bias alone, the same for "
                       "every input" if v["class_weights_left"] == 0 else
                       f"the class score does not change on these images when concepts are removed, although "
                       f"{v['class_weights_left']} weights of the class's final-layer row remain")
                out.append(f"{name} at {level}: every Sobol importance is zero: {why}. The importance entropy is "
                           "undefined there (a gap in its panel) and the gallery's order of concepts is arbitrary.")
    return out
