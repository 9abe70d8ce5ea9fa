"""Saliency maps (Vanilla Gradients, Integrated Gradients) on captum, and selection of correctly classified images.

Both methods return maps (N, H, W) summed over colour channels, computed in float32 with the model in eval mode.

* Vanilla gradient (Simonyan et al., 2014; captum ``Saliency``): VG_c(x) = |d f_t(x) / d x_c| (abs=True) for each
  channel c, map = sum_c VG_c.
* Integrated gradients (Sundararajan et al., 2017; captum ``IntegratedGradients``) with baseline x' (black = 0):
  IG_c(x) = (x_c - x'_c) * int_0^1 d f_t(x' + a (x - x')) / d x_c da, approximated with `n_steps` points of
  `method` (Riemann trapezoid or Gauss-Legendre); completeness: sum_c,h,w IG = f_t(x) - f_t(x') up to that error.
  Caveat (captum 0.9): "riemann_trapezoid" evaluates n points a_k = k/(n-1) but with weights 1/n (halved at the
  ends), which sum to (n-1)/n, so its maps are scaled by (n-1)/n (0.9 at the paper's 10 steps) and sum to about
  0.9 (f_t(x) - f_t(x')). Gini and ROAD rankings are scale-invariant, so we keep captum's (Quantus') values.

Presets: ``IG_METRIC`` (the paper's metric setting, Quantus ``explain``: 10 steps, Riemann trapezoid, signed) and
``IG_FIGURE`` (the qualitative figures: captum defaults, 50 steps Gauss-Legendre, negatives clipped to 0).
"""
from __future__ import annotations

from typing import Callable, Literal

import torch
from captum.attr import IntegratedGradients, Saliency

__all__ = ["vanilla_gradient", "integrated_gradients", "ig_metric", "ig_figure", "IG_METRIC", "IG_FIGURE", "select_correct"]

IG_METRIC: dict = {"n_steps": 10, "method": "riemann_trapezoid", "clip_negative": False}
IG_FIGURE: dict = {"n_steps": 50, "method": "gausslegendre", "clip_negative": True}


def _check(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
    if model.training:
        raise ValueError("model must be in eval mode for attributions (call model.eval())")
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty (N, C, H, W) tensor, got {getattr(x, 'shape', type(x).__name__)}")
    if x.dtype != torch.float32:
        raise ValueError(f"x must be float32 (attributions are computed in fp32; bf16/fp16 not allowed), got {x.dtype}")
    bad = {p.dtype for p in model.parameters() if p.dtype != torch.float32}
    if bad:
        raise ValueError(f"model parameters must be float32 for attributions, found {sorted(map(str, bad))}")
    dev = next(iter(model.parameters()), x).device
    x = x.to(dev)
    t = torch.as_tensor(target, device=dev).long()
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    if t.shape != (x.shape[0],):
        raise ValueError(f"target must be an int or a (N,) tensor with N={x.shape[0]}, got shape {tuple(t.shape)}")
    return x, t


def _post(a: torch.Tensor, abs: bool, clip_negative: bool) -> torch.Tensor:
    m = a.sum(dim=1)
    if abs:
        m = m.abs()
    if clip_negative:
        m = m.clamp_min(0.0)
    return m.detach()


def vanilla_gradient(
    model: torch.nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | int,
    *,
    abs: bool = True,
    batch_size: int = 64,
) -> torch.Tensor:
    """Vanilla gradient maps (N, H, W): sum_c |d f_target(x) / d x_c| (captum ``Saliency``, abs=True as in the paper).

    x: float32 (N, C, H, W) on any device (moved to the model's); target: int or (N,) class indices.
    abs=False gives the signed channel-summed gradient. Processed in chunks of `batch_size` images.
    """
    x, t = _check(model, x, target)
    sal = Saliency(model)
    out = [
        _post(sal.attribute(x[i : i + batch_size].detach().requires_grad_(True), target=t[i : i + batch_size], abs=abs), False, False)
        for i in range(0, x.shape[0], batch_size)
    ]
    return torch.cat(out)


def integrated_gradients(
    model: torch.nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | int,
    *,
    baseline: float | torch.Tensor = 0.0,
    n_steps: int = 50,
    method: Literal["riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle", "gausslegendre"] = "gausslegendre",
    clip_negative: bool = False,
    abs: bool = False,
    internal_batch_size: int | None = 64,
) -> torch.Tensor:
    """Integrated-gradients maps (N, H, W): sum_c IG_c(x) (captum ``IntegratedGradients``, see module docstring).

    baseline: scalar or tensor broadcastable to x (0 = black in the input's units, as the paper/Quantus).
    clip_negative: max(map, 0) after the channel sum (the paper's figures); abs: |map| (applied before clipping).
    internal_batch_size: how many interpolated inputs captum evaluates per forward/backward pass.
    """
    x, t = _check(model, x, target)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    base = baseline if isinstance(baseline, (int, float)) else torch.as_tensor(baseline, device=x.device).expand_as(x)
    ig = IntegratedGradients(model)
    x = x.detach().requires_grad_(True)
    a = ig.attribute(x, baselines=base, target=t, n_steps=n_steps, method=method, internal_batch_size=internal_batch_size)
    return _post(a, abs, clip_negative)


def ig_metric(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw) -> torch.Tensor:
    """IG as the paper's metrics used it (Quantus ``explain``): zero baseline, 10 steps, Riemann trapezoid, signed."""
    return integrated_gradients(model, x, target, **{**IG_METRIC, **kw})


def ig_figure(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw) -> torch.Tensor:
    """IG as the paper's figures used it: zero baseline, captum defaults (50 steps, Gauss-Legendre), negatives -> 0."""
    return integrated_gradients(model, x, target, **{**IG_FIGURE, **kw})


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
    dev = next(iter(model.parameters())).device
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
