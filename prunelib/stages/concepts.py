"""Section 4: CRAFT concepts of a few classes at every pruning level, and their measured coherence.

For each class: the first ``n_images`` validation images of the class (seeded order) that the dense model
classifies correctly (:func:`prunelib.selection.choose_correct`) — the same images at every level, so galleries are comparable. Crops of
``round(64 * image_size / 224)`` px (the paper's 64 px at 224), 10 concepts, Sobol importance for the class;
coherence is measured in the dense model's feature space at every level.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import data as imagenette
from ..checkpoint import save_json
from ..craft import Craft, concept_metrics, gallery_data, split_resnet
from ..craft.gallery import save_concepts
from ..schedule import level_tag
from ..selection import choose_correct
from ..models import device_of
from .common import inputs, load_models, validation_split


def class_concepts(model: torch.nn.Module, x: torch.Tensor, class_name: str, *, n_concepts: int, patch_size: int,
                   seed: int, reference_g) -> tuple[Craft, np.ndarray, dict]:
    """CRAFT fitted on images ``x`` (N, 3, S, S) of ``class_name`` through ``model``: the fitted Craft, the Sobol
    importance of each concept for the class (r,), and :func:`prunelib.craft.concept_metrics` (coherence in the
    feature space of ``reference_g``, the dense network's)."""
    g, h = split_resnet(model)
    craft = Craft(g, h, n_concepts=n_concepts, patch_size=patch_size, seed=seed).fit(x)
    importances = craft.importance(x, imagenette.CLASSES.index(class_name))
    return craft, importances, concept_metrics(craft, x, importances, k=5, reference_g=reference_g)


def run_concepts_stage(*, data: str | None, profile: str, out_dir: Path, image_size: int, classes: str,
                       n_images: int, n_concepts: int = 10, seed: int = 0, val_per_class: int = 0,
                       device: str = "auto") -> dict:
    """Fit CRAFT per (class, level); write ``<class>_<level>.{json,npz}`` galleries and ``coherence.json``."""
    models = load_models(profile, device)
    dense = models[0.0]
    dense_g, _ = split_resnet(dense)
    val = validation_split(data, val_per_class, seed)
    patch = max(2, round(64 * image_size / 224))
    names = [c.strip() for c in classes.split(",") if c.strip()]
    summary = {"levels": list(models), "classes": names, "patch_size": patch, "n_concepts": n_concepts,
               "image_size": image_size, "metrics": {}}
    for name in names:
        idx = choose_correct({0.0: dense}, val, image_size, n_images, seed, of_class=name, pool_size=len(val),
                             too_few="any").indices[0.0]
        summary["metrics"][name] = {"n_images": len(idx)}
        for sparsity, model in tqdm(models.items(), desc=f"CRAFT {name}"):
            x, _ = inputs(val, idx, image_size, device_of(model))
            craft, importances, metrics = class_concepts(model, x, name, n_concepts=n_concepts, patch_size=patch,
                                                         seed=seed, reference_g=dense_g)
            display = imagenette.eval_batch(val.images[idx], image_size)
            gallery = gallery_data(craft, (imagenette.denormalize(display) * 255).round().to(torch.uint8),
                                   importances)
            meta = {"class_name": name, "pruning": f"{100 * sparsity:.0f} %", "sparsity": sparsity,
                    "n_images": len(idx), "profile": profile, "seed": seed}
            save_concepts(Path(out_dir) / f"{name.replace(' ', '_')}_{level_tag(sparsity)}", gallery, metrics, meta)
            summary["metrics"][name][str(sparsity)] = metrics
    save_json(summary, Path(out_dir) / "coherence.json")
    return summary
