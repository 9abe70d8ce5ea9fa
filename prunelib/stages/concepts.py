"""Section 4: CRAFT concepts of a few classes at every pruning level, and their measured coherence.

For each class: the first ``n_images`` validation images of the class (seeded order) that the dense model
classifies correctly — the same images at every level, so galleries are comparable. Crops of
``round(64 * image_size / 224)`` px (the paper's 64 px at 224), 10 concepts, Sobol importance for the class;
coherence is measured in the dense model's feature space at every level.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .. import data as imagenette
from ..checkpoint import save_json
from ..craft import Craft, concept_metrics, gallery_data, split_resnet
from ..craft.gallery import save_concepts
from ..schedule import level_tag
from ..training import predict
from ..models import device_of
from .common import inputs, load_models, validation_split


def class_images(dense, val: imagenette.Split, class_name: str, n: int, image_size: int, seed: int) -> torch.Tensor:
    """Indices of up to ``n`` validation images of ``class_name`` the dense model gets right (seeded order).

    If fewer than 2 are right (an untrained smoke model), the first ``n`` of the class are used, with a warning.
    """
    if class_name not in imagenette.CLASSES:
        raise ValueError(f"unknown class {class_name!r}; ImageNette classes are {', '.join(imagenette.CLASSES)}")
    label = imagenette.CLASSES.index(class_name)
    of_class = torch.nonzero(val.labels == label).flatten()
    of_class = of_class[torch.randperm(len(of_class), generator=torch.Generator().manual_seed(seed))]
    ok = predict(dense, val.images[of_class], image_size=image_size, bf16=False).argmax(1).cpu() == label
    chosen = of_class[ok][:n]
    if len(chosen) < min(n, 2):  # a barely trained (smoke) model: explain the class's images regardless
        warnings.warn(f"the dense model classifies only {len(chosen)} {class_name!r} validation images correctly; "
                      f"using {min(n, len(of_class))} images of the class regardless of correctness")
        chosen = of_class[:n]
    return chosen


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
        idx = class_images(dense, val, name, n_images, image_size, seed)
        summary["metrics"][name] = {"n_images": len(idx)}
        for sparsity, model in tqdm(models.items(), desc=f"CRAFT {name}"):
            x, _ = inputs(val, idx, image_size, device_of(model))
            g, h = split_resnet(model)
            craft = Craft(g, h, n_concepts=n_concepts, patch_size=patch, seed=seed).fit(x)
            importances = craft.importance(x, imagenette.CLASSES.index(name))
            metrics = concept_metrics(craft, x, importances, k=5, reference_g=dense_g)
            display = imagenette.eval_batch(val.images[idx], image_size)
            gallery = gallery_data(craft, (imagenette.denormalize(display) * 255).round().to(torch.uint8),
                                   importances)
            meta = {"class_name": name, "pruning": f"{100 * sparsity:.0f} %", "sparsity": sparsity,
                    "n_images": len(idx), "profile": profile, "seed": seed}
            save_concepts(Path(out_dir) / f"{name.replace(' ', '_')}_{level_tag(sparsity)}", gallery, metrics, meta)
            summary["metrics"][name][str(sparsity)] = metrics
    save_json(summary, Path(out_dir) / "coherence.json")
    return summary
