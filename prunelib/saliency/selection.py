"""Choosing correctly classified images to explain."""
from __future__ import annotations

from typing import Callable

import torch

from ..models import device_of


@torch.no_grad()
def select_correct(
    model: torch.nn.Module,
    images_u8: torch.Tensor,
    labels: torch.Tensor,
    size: int,
    n_per_class: int | None = None,
    n_total: int | None = None,
    seed: int = 0,
    *,
    batch_size: int = 64,
    preprocess: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Indices (sorted, int64, CPU) of correctly classified images, chosen deterministically.

    images_u8: uint8 (N, 3, H, W); labels: (N,); preprocess(images_u8, size) -> float input (default
    ``prunelib.data.eval_batch``). The correct images are shuffled by a torch.Generator seeded with `seed`;
    then the first `n_per_class` of each class, or the first `n_total` overall, are kept (neither: all correct).
    A class (or the whole set) with too few correct images is a ValueError.
    """
    if model.training:
        raise ValueError("model must be in eval mode (call model.eval())")
    if not isinstance(images_u8, torch.Tensor) or images_u8.dtype != torch.uint8 or images_u8.ndim != 4 or images_u8.shape[0] == 0:
        raise ValueError(f"images_u8 must be a non-empty uint8 (N, C, H, W) tensor, got {getattr(images_u8, 'dtype', None)} {tuple(getattr(images_u8, 'shape', ()))}")
    if not isinstance(labels, torch.Tensor) or labels.shape != (images_u8.shape[0],):
        raise ValueError(f"labels must be a (N,) tensor with N={images_u8.shape[0]}")
    if n_per_class is not None and n_total is not None:
        raise ValueError("give at most one of n_per_class and n_total")
    for name, v in (("n_per_class", n_per_class), ("n_total", n_total)):
        if v is not None and v < 1:
            raise ValueError(f"{name} must be >= 1, got {v}")
    if preprocess is None:
        from prunelib import data

        preprocess = data.eval_batch
    dev = device_of(model)
    preds = torch.cat(
        [model(preprocess(images_u8[i : i + batch_size], size).to(dev)).argmax(1).cpu() for i in range(0, images_u8.shape[0], batch_size)]
    )
    labels = labels.cpu().long()
    correct = torch.nonzero(preds == labels).flatten()
    g = torch.Generator().manual_seed(seed)
    shuffled = correct[torch.randperm(correct.numel(), generator=g)]
    if n_total is not None:
        if shuffled.numel() < n_total:
            raise ValueError(f"n_total={n_total} but only {shuffled.numel()} images are classified correctly")
        chosen = shuffled[:n_total]
    elif n_per_class is not None:
        parts = []
        for c in torch.unique(labels).tolist():
            in_c = shuffled[labels[shuffled] == c]
            if in_c.numel() < n_per_class:
                raise ValueError(f"n_per_class={n_per_class} but class {c} has only {in_c.numel()} correct images")
            parts.append(in_c[:n_per_class])
        chosen = torch.cat(parts)
    else:
        chosen = correct
    return torch.sort(chosen).values
