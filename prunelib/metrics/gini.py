"""Gini index of attribution maps (sparseness; Chalasani et al. 2020, as Quantus' ``Sparseness`` computes it)."""
from __future__ import annotations

from typing import Literal

import torch

from prunelib.metrics.validation import check_attributions

__all__ = ["gini"]


def gini(
    attributions: torch.Tensor,
    *,
    normalise: Literal["map", "batch"] = "map",
    eps: float = 1e-7,
) -> torch.Tensor:
    """Gini index of the absolute attribution values, one per map.

    For a map a with n entries (all trailing dimensions flattened; a channel-summed map is (H, W)):

        v = |a| / max_j |a_j| + eps,    v_(1) <= ... <= v_(n) sorted ascending,
        G(a) = sum_{i=1}^{n} (2 i - n - 1) v_(i) / (n * sum_i v_(i)),

    which is 0 for a uniform map and tends to 1 when a single entry holds all the mass. This is Quantus 0.5.3
    ``Sparseness(abs=True, normalise=True)`` (``normalise_by_max`` then ``abs`` then ``+1e-7``). An all-zero
    map is not rescaled (G = 0). G is scale-invariant up to the tiny ``eps`` term.

    Args:
        attributions: (N, ...) maps, e.g. (N, H, W), (N, 1, H, W) or (N, C, H, W); finite values.
        normalise: "map" divides each map by its own max |a|; "batch" by the max over the whole batch, as
            Quantus does when called on a batch (only the eps term makes the two differ).
        eps: the constant Quantus adds after normalisation (1e-7).

    Returns:
        float64 tensor (N,) on the input's device.
    """
    a = check_attributions(attributions, "attributions").detach().to(torch.float64).flatten(1).abs()
    if normalise == "map":
        amax = a.amax(dim=1, keepdim=True)
    elif normalise == "batch":
        amax = a.amax().expand(a.shape[0], 1)
    else:
        raise ValueError(f"normalise must be 'map' or 'batch', got {normalise!r}")
    a = torch.where(amax > 0, a / torch.where(amax > 0, amax, torch.ones_like(amax)), a) + eps
    v, _ = torch.sort(a, dim=1)
    n = v.shape[1]
    i = torch.arange(1, n + 1, dtype=torch.float64, device=v.device)
    # G >= 0 exactly (v is sorted ascending); the clamp removes the float sum's -1e-17 of a uniform or all-zero map
    return (((2 * i - n - 1) * v).sum(dim=1) / (n * v.sum(dim=1))).clamp_min(0.0)
