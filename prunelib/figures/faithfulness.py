"""Figures 2-4 of the paper and ours: Gini vs level, ROAD curves per level, AOPC vs level, with 95 % CIs."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..provenance import Source
from ..saliency import METHODS, in_order
from ..stages.faithfulness import aopc_of, gini_of
from .captions import captioned
from .tables import LEVEL, interval, level


def label(method: str) -> str:
    """The full name of a saliency method (its registry entry's label)."""
    return METHODS[method].label if method in METHODS else method


def load_metrics(stage_dir: str | Path) -> dict:
    """``metrics.json`` written by :func:`prunelib.stages.study.metrics` (a sweep job's measurements)."""
    return json.loads((Path(stage_dir) / "metrics.json").read_text())


def summary_rows(m: dict) -> list[dict]:
    """One row per (method, level): the images explained, mean Gini and AOPC (authors', MoRF and LeRF), each with
    its bootstrap 95 % interval."""
    rows = []
    for method in in_order(m["methods"]):
        by_level = m["methods"][method]
        for key in sorted(by_level, key=float):
            e = by_level[key]
            rows.append({"method": method, LEVEL: level(key), "images": len(e["gini"]), "Gini": interval(gini_of(e)),
                         "AOPC MoRF": interval(aopc_of(e, "morf")), "AOPC LeRF": interval(aopc_of(e, "lerf"))})
    return rows


def level_series(m: dict, method: str, pick) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(levels in %, estimates, lows, highs)`` of one method; NaN (a gap in the line) where a level has no value
    (its network classifies none of the images correctly)."""
    levels = sorted(m["methods"][method], key=float)
    x = np.array([100 * float(s) for s in levels])
    cis = [pick(m["methods"][method][s]) for s in levels]
    column = lambda key: np.array([np.nan if c[key] is None else c[key] for c in cis], dtype=float)  # noqa: E731
    return x, column("estimate"), column("low"), column("high")


def _per_level_plot(m: dict, pick, ylabel: str, reference: dict | None, ref_key: str) -> Figure:
    methods = in_order(m["methods"])
    fig, axes = plt.subplots(1, len(methods), figsize=(4.5 * len(methods), 3.6), sharex=True, squeeze=False)
    axes = axes[0]
    for ax, method in zip(axes, methods):
        x, est, lo, hi = level_series(m, method, pick)
        ax.fill_between(x, lo, hi, alpha=0.25, color="C0", label="95 % CI (bootstrap over images)")
        ax.plot(x, est, "o-", color="C0", label="ours")
        if reference and method in reference[ref_key]:
            ax.plot([100 * s for s in reference["sparsity"]], reference[ref_key][method], "s--", color="C3",
                    label="paper")
        ax.set(title=label(method), xlabel="weights removed (%)", ylabel=ylabel)
    axes[0].legend(fontsize=8)
    return fig


def plot_gini(m: dict, reference: dict | None = None, source: Source | None = None) -> Figure:
    """Mean Gini index of the maps vs pruning level (higher = sparser, more focused maps)."""
    fig = _per_level_plot(m, gini_of, "Gini index (mean over images)", reference, "gini")
    return captioned(fig, plot_gini, source)


def plot_aopc(m: dict, order: str = "morf", reference: dict | None = None, source: Source | None = None) -> Figure:
    """AOPC (the authors' formula) of the ROAD curve vs pruning level; the paper reports MoRF only."""
    fig = _per_level_plot(m, lambda e: aopc_of(e, order), f"AOPC ({order.upper()}, authors')",
                          reference if order == "morf" else None, "aopc")
    return captioned(fig, plot_aopc, source)


def plot_road_curves(m: dict, order: str = "morf", reference: dict | None = None,
                     source: Source | None = None) -> Figure:
    """ROAD accuracy vs % of pixels removed, one line per level (ours left two panels; the paper's right two)."""
    ours = in_order(m["methods"])
    paper = [method for method in ours if reference and order == "morf" and method in reference["road"]]
    ncols = len(ours) + len(paper)
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.6), sharey=True, squeeze=False)
    axes = axes[0]
    p = m["percentages"]
    cmap = plt.get_cmap("viridis")
    for ax, method in zip(axes, ours):
        levels = sorted(m["methods"][method], key=float)
        for i, s in enumerate(levels):
            ci = m["methods"][method][s]["road"][order]["curve"]
            if ci["estimate"] is None:  # the network classifies none of the images correctly: no curve
                continue
            color = cmap(i / max(len(levels) - 1, 1))
            ax.plot(p, ci["estimate"], "-", color=color, label=f"{100 * float(s):.0f} %")
            ax.fill_between(p, ci["low"], ci["high"], color=color, alpha=0.12)
        ax.set(title=f"ours: {label(method)}", xlabel=f"pixels removed, {order.upper()} (%)",
               ylabel="accuracy on imputed images")
    if paper:
        for ax, method in zip(axes[len(ours):], paper):
            curves = reference["road"][method]
            for i, s in enumerate(sorted(curves)):
                ax.plot(reference["road_percentages"], curves[s], "--", color=cmap(i / (len(curves) - 1)),
                        label=f"{100 * s:.0f} %")
            ax.set(title=f"paper: {label(method)}", xlabel="pixels removed, MoRF (%)")
        axes[len(ours)].legend(fontsize=7, title="removed weights")
    axes[0].legend(fontsize=7, title="removed weights", ncol=2)
    return captioned(fig, plot_road_curves, source)
