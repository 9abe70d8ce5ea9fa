"""Input checks shared by the metrics (every failure is a ValueError naming the argument)."""
from __future__ import annotations

from typing import Iterable

import torch

__all__ = ["check_attributions", "as_maps", "check_images", "check_percentages"]


def check_attributions(a: object, name: str = "attributions") -> torch.Tensor:
    """Require a non-empty, finite, floating (N, ...) tensor with at least one entry per sample."""
    if not isinstance(a, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(a).__name__}")
    if a.ndim < 2:
        raise ValueError(f"{name} must be batched, shape (N, ...), got {tuple(a.shape)}")
    if a.shape[0] == 0 or a[0].numel() == 0:
        raise ValueError(f"{name} is an empty batch, shape {tuple(a.shape)}")
    if not a.is_floating_point():
        raise ValueError(f"{name} must be a floating point tensor, got {a.dtype}")
    if not torch.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return a


def as_maps(attributions: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Attributions for images x (N, C, H, W) as (N, H, W) maps.

    Accepts (N, H, W), (N, 1, H, W) and (N, C, H, W) (summed over channels); anything else is a ValueError.
    """
    a = check_attributions(attributions, "attributions")
    n, _, h, w = x.shape
    if a.ndim == 4 and a.shape[0] == n and a.shape[-2:] == (h, w) and a.shape[1] in (1, x.shape[1]):
        return a.sum(dim=1)
    if a.ndim == 3 and a.shape == (n, h, w):
        return a
    raise ValueError(
        f"attributions shape {tuple(a.shape)} does not match x {tuple(x.shape)}: "
        f"expected (N, H, W), (N, 1, H, W) or (N, C, H, W) with N={n}, H={h}, W={w}"
    )


def check_images(x: object, name: str = "x", *, square_rgb: bool = False, min_size: int = 1) -> torch.Tensor:
    """Require a finite float (N, C, H, W) batch with N > 0 and H, W >= ``min_size``; with ``square_rgb``,
    (N, 3, S, S) (CRAFT's crops). Returns ``x``."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"{name} must be a (N, C, H, W) tensor, got {getattr(x, 'shape', type(x).__name__)}")
    if square_rgb and (x.shape[1] != 3 or x.shape[2] != x.shape[3]):
        raise ValueError(f"{name} must have shape (N, 3, S, S) (square RGB images), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (N = 0)")
    if not x.is_floating_point() or not torch.isfinite(x).all():
        raise ValueError(f"{name} must be a finite floating point tensor (normalised as the model expects), "
                         f"got {x.dtype}")
    if min(x.shape[2:]) < min_size:
        raise ValueError(f"{name} are {tuple(x.shape[2:])} px, smaller than {min_size} px")
    return x


def check_percentages(percentages: Iterable[float]) -> tuple[float, ...]:
    """Percentages of pixels to remove: a non-empty sequence of numbers strictly inside (0, 100)."""
    ps = tuple(float(p) for p in percentages)
    if not ps:
        raise ValueError("percentages is empty")
    bad = [p for p in ps if not (0.0 < p < 100.0)]
    if bad:
        raise ValueError(f"percentages must lie strictly inside (0, 100), got {bad}")
    return ps
