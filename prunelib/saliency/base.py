"""What every saliency method shares: input checks, the channel sum, and the :class:`SaliencyMethod` interface.

A method is one small module around this base (as in pytorch-grad-cam): it subclasses :class:`SaliencyMethod`,
sets its ``name``, ``label`` and presets, and is listed once in :data:`prunelib.saliency.METHODS`. Every stage,
figure, table and verdict iterates over that registry (or over the profile's ``methods``), so adding a method
touches its own module, the registry line and its tests.
"""
from __future__ import annotations

from typing import Any

import torch

def check_inputs(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
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


def channel_sum(a: torch.Tensor, abs: bool, clip_negative: bool) -> torch.Tensor:
    m = a.sum(dim=1)
    if abs:
        m = m.abs()
    if clip_negative:
        m = m.clamp_min(0.0)
    return m.detach()



class SaliencyMethod:
    """A saliency method: ``method(model, x, target)`` -> maps (N, H, W) in the setting the metrics use.

    Attributes:
        name: the registry key and the short name in tables (``"VG"``).
        label: the full name in figures (``"Vanilla Gradients"``).
        metric_preset: keyword arguments of the metric setting (Gini, ROAD, AOPC).
        figure_preset: keyword arguments of the qualitative figures' setting (galleries, explorer).
        citation: the bibliography key of the paper that introduced it.
    """

    name: str = ""
    label: str = ""
    citation: str = ""
    metric_preset: dict[str, Any] = {}
    figure_preset: dict[str, Any] = {}
    #: profile parameters this method reads for its metric setting: {profile key: keyword argument}
    profile_options: dict[str, str] = {}

    def options(self, **params: Any) -> dict[str, Any]:
        """The keyword arguments a profile's ``params`` set for this method (e.g. ``ig_steps`` -> ``n_steps``)."""
        return {kw: params[key] for key, kw in self.profile_options.items() if params.get(key) is not None}

    def attribute(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw: Any) -> torch.Tensor:
        """Maps (N, H, W) with the method's own keyword arguments ``kw``."""
        raise NotImplementedError

    def __call__(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw: Any) -> torch.Tensor:
        """Maps (N, H, W) in the metric setting (``kw`` overrides the preset)."""
        return self.attribute(model, x, target, **{**self.metric_preset, **kw})

    def figure(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw: Any) -> torch.Tensor:
        """Maps (N, H, W) in the figure setting (``kw`` overrides the preset)."""
        return self.attribute(model, x, target, **{**self.figure_preset, **kw})

    def __repr__(self) -> str:
        return f"<saliency method {self.name}: {self.label}>"
