"""Vanilla Gradients (Simonyan et al., 2014; captum ``Saliency``): VG_c(x) = |d f_t(x) / d x_c|, summed over channels."""
from __future__ import annotations

import torch
from captum.attr import Saliency

from .base import SaliencyMethod, channel_sum, check_inputs


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
    x, t = check_inputs(model, x, target)
    sal = Saliency(model)
    out = [
        channel_sum(sal.attribute(x[i : i + batch_size].detach().requires_grad_(True), target=t[i : i + batch_size], abs=abs), False, False)
        for i in range(0, x.shape[0], batch_size)
    ]
    return torch.cat(out)


class VanillaGradients(SaliencyMethod):
    """The absolute input gradient, summed over colour channels (the paper's setting for metrics and figures)."""

    name, label, citation = "VG", "Vanilla Gradients", "simonyan2014deep"
    metric_preset = {"abs": True}
    figure_preset = {"abs": True}

    def attribute(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw) -> torch.Tensor:
        return vanilla_gradient(model, x, target, **kw)
