"""Agreement of two networks' saliency maps on the same image: where do they look?

Two measures, as studies that compare maps between models use them (Adebayo et al., 2018, "Sanity checks for
saliency maps"; Fel et al., 2022, "Harmonizing the object recognition strategies of deep neural networks with
humans": Spearman rank correlation plus the IoU of the top 10 % of pixels):

- :func:`spearman`: the rank correlation of two maps over their pixels (ties get their average rank);
- :func:`top_k_iou`: the intersection over union of the ``fraction`` most salient pixels of each map.

Both take maps (N, H, W) (or (N, C, H, W), summed over channels) and compare map ``i`` of one with map ``i`` of the
other, returning (N,). The study applies them to absolute, channel-summed maps (:func:`as_saliency`).
"""
from __future__ import annotations

import torch

__all__ = ["as_saliency", "spearman", "top_k_iou"]


def as_saliency(maps: torch.Tensor) -> torch.Tensor:
    """Absolute value of channel-summed maps: (N, C, H, W) -> (N, H, W); (N, H, W) -> its absolute value."""
    if maps.dim() == 4:
        maps = maps.sum(1)
    if maps.dim() != 3:
        raise ValueError(f"maps must be (N, H, W) or (N, C, H, W), got shape {tuple(maps.shape)}")
    return maps.abs()


def _flat(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a = a.sum(1) if a.dim() == 4 else a
    b = b.sum(1) if b.dim() == 4 else b
    if a.shape != b.shape or a.dim() != 3:
        raise ValueError(f"maps must be two (N, H, W) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return a.flatten(1).double(), b.flatten(1).double()


def _ranks(x: torch.Tensor) -> torch.Tensor:
    """Average ranks (1..n) along the last axis, ties sharing the mean of their ranks (scipy's ``rankdata``)."""
    sorted_x, order = torch.sort(x, dim=-1, stable=True)
    out = torch.empty_like(x)
    for row in range(len(x)):
        values, inverse, counts = torch.unique_consecutive(sorted_x[row], return_inverse=True, return_counts=True)
        ends = torch.cumsum(counts, 0).double()
        mean_rank = ends - (counts.double() - 1) / 2
        out[row, order[row]] = mean_rank[inverse]
    return out


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman's rank correlation of map ``a[i]`` with ``b[i]`` over their pixels: (N,), in [-1, 1]; 0 where a map
    is constant (no ranking to compare)."""
    ra, rb = (_ranks(x) for x in _flat(a, b))
    ra, rb = ra - ra.mean(-1, keepdim=True), rb - rb.mean(-1, keepdim=True)
    denominator = (ra.norm(dim=-1) * rb.norm(dim=-1))
    return torch.where(denominator > 0, (ra * rb).sum(-1) / denominator.clamp_min(1e-300), torch.zeros_like(denominator))


def top_k_iou(a: torch.Tensor, b: torch.Tensor, fraction: float = 0.1) -> torch.Tensor:
    """IoU of the ``fraction`` most salient pixels of ``a[i]`` and of ``b[i]``: (N,), in [0, 1] (1: the same pixels;
    ``fraction / (2 - fraction)`` expected for unrelated maps). Ties at the cut are broken by pixel order."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    fa, fb = _flat(a, b)
    k = max(1, round(fraction * fa.shape[-1]))
    top = lambda x: torch.zeros_like(x, dtype=torch.bool).scatter_(-1, torch.topk(x, k, dim=-1).indices, True)  # noqa: E731
    ta, tb = top(fa), top(fb)
    return (ta & tb).sum(-1).double() / (ta | tb).sum(-1).double()
