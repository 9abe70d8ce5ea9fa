"""Area over the perturbation curve (AOPC) of a ROAD accuracy curve, in two conventions."""
from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["aopc_authors", "aopc_standard"]


def _curve(curve: torch.Tensor | Sequence[float], name: str = "curve") -> torch.Tensor:
    c = curve if isinstance(curve, torch.Tensor) else torch.as_tensor(list(curve), dtype=torch.float64)
    if c.ndim == 0 or c.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (..., K) with K >= 1 points, got {tuple(c.shape)}")
    c = c.to(torch.float64) if not c.is_floating_point() else c
    if not torch.isfinite(c).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return c


def aopc_authors(curve: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """AOPC as the paper's code computes it from the ROAD curve acc(p_0), ..., acc(p_{K-1}) (K points, last dim):

        AOPC_authors = (1 / (K + 1)) * sum_{k=0}^{K-1} (acc(p_0) - acc(p_k)),

    with p_0 = 1 % (the first *perturbed* point, not the unperturbed image) and K = 10 for p = 1, 11, ..., 91;
    the k = 0 term is zero, so 9 non-zero terms are divided by 11. This reproduces every ``aopc_morf`` value
    in reference_results.json from its ``road_morf`` curve to the 6 printed decimals. Returns shape (...).
    """
    c = _curve(curve)
    k = c.shape[-1]
    return (c[..., :1] - c).sum(dim=-1) / (k + 1)


def aopc_standard(curve: torch.Tensor | Sequence[float], reference: float | torch.Tensor = 1.0) -> torch.Tensor:
    """AOPC of Samek et al. (2017), with the unperturbed input as step 0:

        AOPC = (1 / (K + 1)) * sum_{k=0}^{K} (acc(x^(0)) - acc(x^(k))) = (1 / (K + 1)) * sum_{k=1}^{K} (ref - acc(p_k)),

    where acc(p_1..p_K) is the given K-point curve and ref = acc(x^(0)) is the accuracy on the unperturbed
    images (1 for ROAD on correctly classified images, the default). Returns shape (...).
    """
    c = _curve(curve)
    k = c.shape[-1]
    return (torch.as_tensor(reference, dtype=c.dtype, device=c.device) - c).sum(dim=-1) / (k + 1)
