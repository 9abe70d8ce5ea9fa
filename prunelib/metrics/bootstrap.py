"""Percentile bootstrap confidence intervals over images."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

__all__ = ["BootstrapCI", "bootstrap_ci"]


@dataclass(frozen=True)
class BootstrapCI:
    """estimate = statistic(all images); [low, high] the percentile interval; same shape as the statistic."""

    estimate: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    level: float
    n_boot: int


def _mean(v: torch.Tensor) -> torch.Tensor:
    return v.to(torch.float64).mean(dim=0)


def bootstrap_ci(
    values: torch.Tensor,
    statistic: Callable[[torch.Tensor], torch.Tensor] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> BootstrapCI:
    """Percentile bootstrap CI of `statistic` over the images (rows) of `values`.

    For b = 1..B, rows are drawn with replacement (torch.Generator seeded with `seed`), T_b = statistic(values[idx_b]);
    low/high are the (1 - level)/2 and (1 + level)/2 quantiles (linear interpolation) of T_1..T_B.

    Args:
        values: per-image values (N,) (e.g. Gini) or a per-image matrix (N, P) (e.g. ROAD `correct`).
        statistic: maps a (N, ...) resample to a tensor (default: mean over dim 0, e.g. the ROAD curve; for AOPC
            use ``lambda m: aopc_authors(m.float().mean(0))``).
        n_boot: number of resamples B.
        seed: seed of the resampling generator.
        level: coverage of the interval (0.95).
    """
    if not isinstance(values, torch.Tensor):
        values = torch.as_tensor(values)
    if values.ndim == 0 or values.shape[0] == 0:
        raise ValueError(f"values must be a non-empty (N, ...) tensor, got shape {tuple(values.shape)}")
    if values.is_floating_point() and not torch.isfinite(values).all():
        raise ValueError("values contains NaN or inf")
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot}")
    stat = statistic or _mean
    n = values.shape[0]
    g = torch.Generator(device="cpu").manual_seed(seed)
    idx = torch.randint(0, n, (n_boot, n), generator=g).to(values.device)
    boots = torch.stack([torch.as_tensor(stat(values[i])) for i in idx]).to(torch.float64)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64, device=boots.device)
    low, high = torch.quantile(boots, q, dim=0)
    est = torch.as_tensor(stat(values)).to(torch.float64)
    return BootstrapCI(estimate=est, low=low, high=high, level=level, n_boot=n_boot)
