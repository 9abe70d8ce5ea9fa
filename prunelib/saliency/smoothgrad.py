"""SmoothGrad (Smilkov et al., 2017; captum ``NoiseTunnel`` over ``Saliency``): the absolute input gradient averaged
over noisy copies of the image, SG(x) = (1/n) sum_k |d f_t(x + e_k) / d x|, e_k ~ N(0, sigma^2), summed over channels.

sigma is ``noise_level`` times the value range (max - min) of each image, as Smilkov et al. recommend (10-20 %);
the draws are seeded per image, so a map does not depend on the batch it was computed in. Pruning studies by the paper's authors use it beside VG and IG.
"""
from __future__ import annotations

import torch
from captum.attr import NoiseTunnel, Saliency

from .base import SaliencyMethod, channel_sum, check_inputs


def smoothgrad(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, *, n_samples: int = 10,
               noise_level: float = 0.15, seed: int = 0) -> torch.Tensor:
    """SmoothGrad maps (N, H, W) of ``x`` (float32 (N, C, H, W)) for ``target`` (int or (N,)).

    Each image gets ``n_samples`` noisy copies with standard deviation ``noise_level * (max - min)`` of that image,
    drawn after ``torch.manual_seed(seed)`` in a forked RNG state (the caller's random state is left as it was, and
    an image gets the same draws wherever it sits in a batch). ``noise_level=0`` gives exactly the vanilla gradient.
    """
    x, t = check_inputs(model, x, target)
    if n_samples < 1 or noise_level < 0:
        raise ValueError(f"n_samples must be >= 1 and noise_level >= 0, got {n_samples} and {noise_level}")
    tunnel = NoiseTunnel(Saliency(model))
    cuda = [x.device] if x.device.type == "cuda" else []
    maps = []
    for i in range(x.shape[0]):
        sigma = noise_level * float(x[i].max() - x[i].min())
        xi = x[i:i + 1].detach().requires_grad_(True)
        with torch.random.fork_rng(devices=cuda):  # captum draws from the global generator: seed it, then restore
            torch.manual_seed(seed)
            grads = tunnel.attribute(xi, nt_type="smoothgrad", nt_samples=n_samples, stdevs=sigma,
                                     target=t[i:i + 1], abs=True)
        maps.append(channel_sum(grads, False, False))
    return torch.cat(maps)


class SmoothGrad(SaliencyMethod):
    """SmoothGrad with 10 noisy copies at 15 % noise for metrics, 25 copies for figures."""

    name, label, citation = "SG", "SmoothGrad", "smilkov2017smoothgrad"
    metric_preset = {"n_samples": 10, "noise_level": 0.15}
    figure_preset = {"n_samples": 25, "noise_level": 0.15}

    def attribute(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | int, **kw) -> torch.Tensor:
        return smoothgrad(model, x, target, **kw)
