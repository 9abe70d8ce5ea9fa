"""ROAD: RemOve And Debias (Rong et al., 2022), with noisy linear imputation, batched on the model's device.

For image x_n with label y_n, attribution map a_n (H, W) and a percentage p, the k(p) = floor(H W p / 100)
highest-ranked pixels are removed (MoRF: largest a first; LeRF: smallest first; ties broken by ascending
flat pixel index, i.e. a stable sort) and filled by ``noisy_linear_imputation``; then

    correct[n, p] = [ argmax_c f_c(x_n^(p)) == y_n ],      curve[p] = (1/N) sum_n correct[n, p].

k(p) and the signed ranking follow Quantus 0.5.3 ``ROAD`` (which ranks ``normalise_by_max`` attributions,
an order-preserving rescaling; Quantus' unstable argsort reverses ties instead).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Literal

import torch

from prunelib.metrics.imputation import add_noise, noisy_linear_imputation, seeded_noise
from prunelib.metrics.validation import as_maps, check_images, check_percentages
from prunelib.models import device_of
from prunelib.progress import progress_bar

__all__ = ["RoadResult", "road", "road_images", "removal_masks"]

_SEED_STRIDE = 1_000_003


@dataclass(frozen=True)
class RoadResult:
    """correct: bool (N, P); curve: float (P,) = correct.mean(0); percentages: the P percentages."""

    correct: torch.Tensor
    curve: torch.Tensor
    percentages: tuple[float, ...]
    order: str

    def as_dict(self) -> dict:
        return {
            "percentages": list(self.percentages),
            "curve": self.curve.tolist(),
            "correct": self.correct.to(torch.int8).tolist(),
            "order": self.order,
        }


def _ranks(maps: torch.Tensor, order: str) -> torch.Tensor:
    """rank[n, i] = position of flat pixel i in the removal order of image n (0 = removed first)."""
    if order not in ("morf", "lerf"):
        raise ValueError(f"order must be 'morf' or 'lerf', got {order!r}")
    flat = maps.flatten(1)
    idx = torch.sort(flat, dim=1, descending=(order == "morf"), stable=True).indices
    ranks = torch.empty_like(idx)
    ranks.scatter_(1, idx, torch.arange(flat.shape[1], device=flat.device).expand_as(idx).contiguous())
    return ranks


def removal_masks(maps: torch.Tensor, percentage: float, order: str = "morf", ranks: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean (N, H, W) masks of the k = floor(H W p / 100) pixels removed first (see module docstring)."""
    n, h, w = maps.shape
    r = _ranks(maps, order) if ranks is None else ranks
    k = int(h * w * percentage / 100)
    return (r < k).view(n, h, w)


def _impute_series(x: torch.Tensor, maps: torch.Tensor, ranks: torch.Tensor, ps: tuple[float, ...], order: str,
                   noise: float, seed: int, index: torch.Tensor, tol: float) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Yield (j, masks (B, H, W), imputed images (B, C, H, W)) for each percentage ps[j] of a chunk x.

    The removal masks of growing percentages are nested, so the CG solve for ps[j] starts from the noise-free
    imputation for ps[j-1] (a warm start; the result differs only within tol). The noise of image `index[i]` at
    percentage index j has its own seed, so results do not depend on how images are batched.
    """
    clean = None
    for j, p in enumerate(ps):
        masks = removal_masks(maps, p, order, ranks)
        clean = noisy_linear_imputation(x, masks, noise=0.0, tol=tol, initial=clean)
        out = clean
        if noise > 0:
            seeds = [seed * _SEED_STRIDE + n_idx * 1009 + j for n_idx in index.tolist()]
            out = add_noise(clean, masks, noise, seeded_noise(clean, seeds))
        yield j, masks, out


def _predict(model: torch.nn.Module, xi: torch.Tensor, precision: str) -> torch.Tensor:
    """Predicted classes (B,) for images xi (B, C, H, W).

    On CPU the batch is passed channels_last (oneDNN's faster layout for convolutions: ~15 % faster for ResNet-18,
    logits equal to ~1e-6). precision "bf16" runs the forward pass under bfloat16 autocast.
    """
    if xi.device.type == "cpu":
        xi = xi.contiguous(memory_format=torch.channels_last)
    with torch.autocast(xi.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        return model(xi).argmax(dim=1)


@torch.no_grad()
def road(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    attributions: torch.Tensor,
    percentages: Iterable[float] = range(1, 100, 10),
    order: Literal["morf", "lerf"] = "morf",
    noise: float = 0.01,
    seed: int = 0,
    *,
    batch_size: int = 32,
    tol: float = 1e-5,
    precision: Literal["fp32", "bf16"] = "fp32",
    progress: bool = False,
    index: torch.Tensor | None = None,
) -> RoadResult:
    """ROAD accuracy curve of `model` on images x (N, C, H, W) with labels y (N,) and attributions.

    Args:
        attributions: (N, H, W), (N, 1, H, W) or (N, C, H, W) (summed over channels); finite.
        percentages: values strictly inside (0, 100) (default 1, 11, ..., 91 as in the paper).
        order: "morf" (most relevant first) or "lerf" (least relevant first).
        noise: sigma of the imputation noise (ROAD: 0.01, in the units of x).
        seed: noise seed; image n at percentage index j uses its own generator, so batching does not matter.
        index: (N,) the images' identities that seed their noise (e.g. their validation indices: one image gets
            the same noise in any list, any job); default their positions 0..N-1.
        batch_size: images imputed and classified together.
        tol: relative residual of the CG imputation. 1e-5 keeps the imputation error ~1e-3 at the worst pixel
            (RMS ~1e-4; tested against the direct solve), well under the noise sigma 0.01; looser values
            (1e-4: worst pixel ~1e-2) are not. Use ~1e-7 to match Quantus at noise=0.
        precision: "fp32" (default; what every result in the book uses) or "bf16": the classifications run
            under bfloat16 autocast, ~1.7x faster on a CPU with AVX512-BF16. Imputation stays in float32.
            ``benchmarks/road_bf16_agreement.py`` measures what it changes (flipped decisions, curve and AOPC
            differences against their bootstrap intervals) on the trained networks.
    Returns:
        RoadResult(correct (N, P) bool, curve (P,) float, percentages, order), on the model's device.
    """
    if model.training:
        raise ValueError("model must be in eval mode (call model.eval())")
    dev = device_of(model)
    x = check_images(x).to(dev)
    if not isinstance(y, torch.Tensor) or y.shape != (x.shape[0],):
        raise ValueError(f"y must be a (N,) tensor of labels with N={x.shape[0]}, got {getattr(y, 'shape', y)}")
    y = y.to(dev)
    maps = as_maps(attributions, x).to(dev)
    ps = check_percentages(percentages)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    ranks = _ranks(maps, order)
    n = x.shape[0]
    index = torch.arange(n) if index is None else torch.as_tensor(index, dtype=torch.long).cpu()
    if index.shape != (n,):
        raise ValueError(f"index must be (N,) = ({n},), got {tuple(index.shape)}")
    correct = torch.zeros(n, len(ps), dtype=torch.bool, device=dev)
    bar = progress_bar(total=n * len(ps), disable=not progress, desc="ROAD", unit="img")
    for s in range(0, n, batch_size):
        sl = slice(s, min(s + batch_size, n))
        for j, _, xi in _impute_series(x[sl], maps[sl], ranks[sl], ps, order, noise, seed, index[sl], tol):
            correct[sl, j] = _predict(model, xi, precision) == y[sl]
            bar.update(sl.stop - sl.start)
    bar.close()
    return RoadResult(correct=correct, curve=correct.float().mean(dim=0), percentages=ps, order=order)


@torch.no_grad()
def road_images(
    x1: torch.Tensor,
    attributions1: torch.Tensor,
    percentages: Iterable[float] = range(1, 100, 10),
    order: Literal["morf", "lerf"] = "morf",
    noise: float = 0.01,
    seed: int = 0,
    *,
    index: int = 0,
    tol: float = 1e-5,
) -> torch.Tensor:
    """The imputed versions of one image x1 (C, H, W) that ROAD classifies, shape (P, C, H, W).

    attributions1: (H, W), (1, H, W) or (C, H, W). With the same seed and `index` = the image's position in
    the batch given to ``road``, these are exactly the images ``road`` fed to the model.
    """
    if not isinstance(x1, torch.Tensor) or x1.ndim != 3:
        raise ValueError(f"x1 must be a (C, H, W) tensor, got {getattr(x1, 'shape', type(x1).__name__)}")
    if not isinstance(attributions1, torch.Tensor) or attributions1.ndim not in (2, 3):
        raise ValueError(f"attributions1 must be (H, W), (1, H, W) or (C, H, W), got {getattr(attributions1, 'shape', attributions1)}")
    x = check_images(x1.unsqueeze(0), "x1")
    a = attributions1.unsqueeze(0).to(x.device)
    maps = as_maps(a, x)
    ps = check_percentages(percentages)
    ranks = _ranks(maps, order)
    out = [xi[0] for _, _, xi in _impute_series(x, maps, ranks, ps, order, noise, seed, torch.tensor([index]), tol)]
    return torch.stack(out)
