"""Section 3: Gini sparseness, ROAD (MoRF and LeRF) and AOPC of each saliency method's maps, as a sweep's job
measures every network (:class:`prunelib.sweep.measurement.Measurement`).

The paper's protocol (``book/protocol.md``): correctly classified validation images, VG (absolute gradient) and IG
(Quantus' ``explain`` setting: zero baseline, 10 steps, Riemann trapezoid, signed), both summed over channels;
Gini of each map; ROAD with noisy linear imputation (sigma 0.01) at 1, 11, ..., 91 % removed; AOPC from the
curve. Every aggregate gets a bootstrap 95 % confidence interval over images.
"""
from __future__ import annotations

import torch

from .. import metrics
from ..saliency import METHODS, PAPER_METHODS

PERCENTAGES = tuple(range(1, 100, 10))
ORDERS = ("morf", "lerf")


def level_key(sparsity: float | str) -> str:
    """The key of a level in the stages' JSON files: ``0.1 -> "0.1"``, ``0 -> "0.0"``."""
    return str(float(sparsity))


def gini_of(entry: dict) -> dict:
    """The mean Gini of one (method, level) entry of ``metrics.json``, with its CI."""
    return entry["gini_mean"]


def aopc_of(entry: dict, order: str = "morf") -> dict:
    """The AOPC (authors' formula) of one (method, level) entry of ``metrics.json`` for ``order``, with its CI."""
    return entry["road"][order]["aopc_authors"]


def per_image_aopc(entry: dict, order: str = "morf") -> torch.Tensor:
    """Per-image AOPC (authors' formula) of one (method, level) entry for ``order``, from its ROAD 0/1 ``correct``
    matrix (N, P): shape (N,). AOPC is linear in the curve, so the mean over images is the AOPC of the mean curve."""
    return metrics.aopc_authors(torch.tensor(entry["road"][order]["correct"], dtype=torch.float64))


def per_image_gap(entry: dict) -> torch.Tensor:
    """Per-image ``aopc_gap`` = AOPC(MoRF) - AOPC(LeRF) of one (method, level) entry: shape (N,)."""
    return per_image_aopc(entry, "morf") - per_image_aopc(entry, "lerf")


def _ci(values: torch.Tensor, n_boot: int, seed: int, statistic=None) -> dict:
    if not len(values):  # a network that classifies none of its images correctly: nothing to aggregate
        return {"estimate": None, "low": None, "high": None}
    ci = metrics.bootstrap_ci(values.cpu(), statistic=statistic, n_boot=n_boot, seed=seed)
    return {"estimate": ci.estimate.tolist(), "low": ci.low.tolist(), "high": ci.high.tolist()}


def measure(model, x: torch.Tensor, y: torch.Tensor, *, methods: tuple[str, ...] = tuple(PAPER_METHODS.split(",")),
            ig_steps: int = 10,
            n_bootstrap: int = 1000, seed: int = 0, noise: float = 0.01, precision: str = "fp32",
            index: torch.Tensor | None = None, keep: torch.Tensor | None = None,
            maps_out: dict[str, torch.Tensor] | None = None) -> dict:
    """Every metric of one network on images ``x`` (N, 3, H, W) with labels ``y`` (N,), per method.

    Returns ``{method: {"gini": [per image], "gini_mean": CI, "road": {"morf"|"lerf": {"correct": [[0/1] * P] * N,
    "curve": CI, "aopc_authors": CI, "aopc_standard": CI}}}}`` (CI = ``{"estimate", "low", "high"}``, bootstrap
    95 % over images). ``method`` ``"random"`` ranks pixels at random (a uniform map seeded per image): the
    baseline AOPC of removing pixels in no particular order; it has no Gini.

    ``index`` (N,): the images' identities (validation indices) that seed ROAD's noise and the random maps, so one
    image gets one value in any list and any job (default: positions). ``keep`` (N,) bool: the images the
    aggregates (the CIs) are over, e.g. those the network classifies correctly; per-image values cover all N.
    ``maps_out``: if given, receives each method's (N, H, W) maps.
    """
    index = torch.arange(x.shape[0]) if index is None else torch.as_tensor(index, dtype=torch.long)
    keep = torch.ones(x.shape[0], dtype=torch.bool) if keep is None else torch.as_tensor(keep, dtype=torch.bool)
    out = {}
    for method in methods:
        if method == "random":
            maps = torch.stack([torch.rand(*x.shape[-2:], generator=torch.Generator().manual_seed(seed * 1_000_003 + i))
                                for i in index.tolist()]).to(x.device) if len(index) else x.new_zeros(0, *x.shape[-2:])
        else:
            maps = METHODS[method](model, x, y, **METHODS[method].options(ig_steps=ig_steps))
        if maps_out is not None:
            maps_out[method] = maps
        entry: dict = {"road": {}}
        if method != "random":
            gini = metrics.gini(maps)
            entry.update(gini=gini.tolist(), gini_mean=_ci(gini[keep.to(gini.device)], n_bootstrap, seed))
        with torch.no_grad():
            for order in ORDERS if method != "random" else ("morf",):
                road = metrics.road(model, x, y, maps, PERCENTAGES, order=order, noise=noise, seed=seed,
                                    precision=precision, index=index)
                correct = road.correct.float()[keep.to(road.correct.device)]
                entry["road"][order] = {
                    "correct": road.correct.to(torch.int8).tolist(),
                    "curve": _ci(correct, n_bootstrap, seed),
                    "aopc_authors": _ci(correct, n_bootstrap, seed, lambda m: metrics.aopc_authors(m.mean(0))),
                    "aopc_standard": _ci(correct, n_bootstrap, seed, lambda m: metrics.aopc_standard(m.mean(0))),
                }
        out[method] = entry
    return out
