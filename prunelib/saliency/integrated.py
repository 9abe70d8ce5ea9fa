"""Integrated Gradients (Sundararajan et al., 2017; captum ``IntegratedGradients``), summed over channels.

With baseline x' (black = 0): IG_c(x) = (x_c - x'_c) * int_0^1 d f_t(x' + a (x - x')) / d x_c da, approximated with
``n_steps`` points of ``method`` (Riemann trapezoid or Gauss-Legendre); completeness: sum_c,h,w IG = f_t(x) - f_t(x')
up to that error. Caveat (captum 0.9): "riemann_trapezoid" evaluates n points a_k = k/(n-1) but with weights 1/n
(halved at the ends), which sum to (n-1)/n, so its maps are scaled by (n-1)/n (0.9 at the paper's 10 steps) and sum
to about 0.9 (f_t(x) - f_t(x')). Gini and ROAD rankings are scale-invariant, so we keep captum's (Quantus') values.

Presets: ``IG_METRIC`` (the paper's metric setting, Quantus ``explain``: 10 steps, Riemann trapezoid, signed) and
``IG_FIGURE`` (the qualitative figures: captum defaults, 50 steps Gauss-Legendre, negatives clipped to 0).
"""
from __future__ import annotations

from typing import Literal

import torch
from captum.attr import IntegratedGradients

from .base import SaliencyMethod, channel_sum, check_inputs

IG_METRIC: dict = {"n_steps": 10, "method": "riemann_trapezoid", "clip_negative": False}
IG_FIGURE: dict = {"n_steps": 50, "method": "gausslegendre", "clip_negative": True}


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
    internal_batch_size: at most this many interpolated inputs per forward/backward pass (None: all at once).

    captum splits only the steps of a call, never its images (with more images than ``internal_batch_size`` it
    warns and evaluates all of them at once), so the images go to captum in chunks of
    ``internal_batch_size // n_steps`` (at least 1): each chunk's ``n_steps`` copies then fit in one pass.
    """
    x, t = check_inputs(model, x, target)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    base = baseline if isinstance(baseline, (int, float)) else torch.as_tensor(baseline, device=x.device).expand_as(x)
    ig = IntegratedGradients(model)
    chunk = max(1, internal_batch_size // n_steps) if internal_batch_size else x.shape[0]
    maps = []
    for i in range(0, x.shape[0], chunk):
        part = slice(i, i + chunk)
        a = ig.attribute(x[part].detach().requires_grad_(True), target=t[part], n_steps=n_steps, method=method,
                         baselines=base if isinstance(base, (int, float)) else base[part],
                         internal_batch_size=internal_batch_size)
        maps.append(channel_sum(a, abs, clip_negative))
    return torch.cat(maps)


def ig_metric(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw) -> torch.Tensor:
    """IG as the paper's metrics used it (Quantus ``explain``): zero baseline, 10 steps, Riemann trapezoid, signed."""
    return integrated_gradients(model, x, target, **{**IG_METRIC, **kw})


def ig_figure(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw) -> torch.Tensor:
    """IG as the paper's figures used it: zero baseline, captum defaults (50 steps, Gauss-Legendre), negatives -> 0."""
    return integrated_gradients(model, x, target, **{**IG_FIGURE, **kw})


class IntegratedGradientsMethod(SaliencyMethod):
    """Integrated Gradients from a black baseline: signed, 10 steps for metrics; clipped, 50 steps for figures."""

    name, label, citation = "IG", "Integrated Gradients", "sundararajan2017axiomatic"
    metric_preset = IG_METRIC
    figure_preset = IG_FIGURE
    profile_options = {"ig_steps": "n_steps"}

    def attribute(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw) -> torch.Tensor:
        return integrated_gradients(model, x, target, **kw)
