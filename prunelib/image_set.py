"""The fixed image set of a profile: which validation images every network of the study is measured on.

Chosen by validation index before anything is measured, class-balanced (``per_class`` images of each class, drawn
with the profile's ``image_set_seed``) and independent of every network: adding a seed, a regime or a network never
changes it. Every network is measured on the whole set; its metrics are over the images of the set it classifies
correctly, a paired difference over the images both networks classify correctly, and the number of images is
reported beside every value. A network near chance is measured too (and shown as such); it never shapes the set.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from .data import CLASSES
from .profiles import Settings, as_settings


def fixed_image_set(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Sorted validation indices: ``per_class`` images of each class of ``labels`` (N,), drawn per class with a
    generator seeded by ``(seed, class)``, so a class's draw depends on nothing but its own images.

    Raises ValueError when a class has fewer than ``per_class`` images."""
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    chosen = []
    for c in range(len(CLASSES)):
        members = (labels == c).nonzero().flatten()
        if len(members) < per_class:
            raise ValueError(f"the validation split has {len(members)} images of class {CLASSES[c]!r}, fewer than "
                             f"the {per_class} per class the image set asks for (image_set_per_class)")
        order = torch.randperm(len(members), generator=torch.Generator().manual_seed(seed * 1009 + c))
        chosen.append(members[order[:per_class]])
    return torch.sort(torch.cat(chosen)).values


def set_size(params: Settings | Mapping[str, Any]) -> tuple[int, int]:
    """``(per_class, seed)`` of a profile's image set: ``image_set_per_class`` (default: ``n_attribution_images``
    spread over the classes, rounded up) and ``image_set_seed``."""
    settings = as_settings(params)
    per_class = settings.image_set_per_class or -(-int(settings.need("n_attribution_images")) // len(CLASSES))
    return int(per_class), settings.image_set_seed


def kept(network: dict[str, Any]) -> torch.Tensor:
    """(N,) bool: the images of a network's measurement its metrics are over, those it classifies correctly (a
    result of the first protocol, whose images were all chosen correct, keeps all)."""
    return torch.tensor(network.get("correct", [True] * len(network["images"])), dtype=torch.bool)
