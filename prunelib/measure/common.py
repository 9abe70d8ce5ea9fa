"""What several measurements need: when a network is near chance, and the validation images it is explained on."""
from __future__ import annotations

import torch

from .. import data


#: a network whose top-1 accuracy is below CHANCE_FACTOR x chance (1 / number of classes) is *near chance*: its
#: explanations say nothing about the paper's claims, so verdicts leave it out and it does not restrict which
#: images the other levels share
CHANCE_FACTOR = 2.0


def near_chance(top1: float, n_classes: int) -> bool:
    """Whether a top-1 accuracy (a fraction) is below ``CHANCE_FACTOR`` times chance."""
    return top1 < CHANCE_FACTOR / n_classes


def validation_split(data_root: str | None, val_per_class: int = 0, seed: int = 0) -> data.Split:
    """The validation split (optionally N images per class), as stage 1 evaluated it."""
    val = data.load_split(data.locate(data_root), "val")
    return data.per_class_subset(val, val_per_class, seed=seed) if val_per_class else val


def inputs(val: data.Split, indices: torch.Tensor, image_size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised float images (N, 3, S, S) and labels (N,) of ``indices``, on ``device``."""
    return data.eval_batch(val.images[indices], image_size).to(device), val.labels[indices].to(device)

