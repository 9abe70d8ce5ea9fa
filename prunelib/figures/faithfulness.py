"""Figures 2-4 of the paper and ours: Gini vs level, ROAD curves per level, AOPC vs level, with 95 % CIs."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..saliency import METHODS, in_order
from ..measure.faithfulness import aopc_of, gini_of, level_key
from .style import CHANCE, CHANCE_LABEL, COLUMN_IN, clamped, limits
from .tables import LEVEL, flagged, interval, level


#: one name per removal order, as the book writes it
ORDERS = {"morf": "MoRF", "lerf": "LeRF"}


def label(method: str) -> str:
    """The full name of a saliency method (its registry entry's label)."""
    return METHODS[method].label if method in METHODS else method


def load_metrics(stage_dir: str | Path) -> dict:
    """``metrics.json`` written by :func:`prunelib.chapters.study.metrics` (a sweep job's measurements)."""
    return json.loads((Path(stage_dir) / "metrics.json").read_text())


def summary_rows(m: dict) -> list[dict]:
    """One row per (method, level): the images explained, mean Gini and AOPC (authors', MoRF and LeRF), each with
    its bootstrap 95 % interval; a network near chance flagged beside its level."""
    rows, chance = [], set(at_chance(m).round().tolist())
    for method in in_order(m["methods"]):
        by_level = m["methods"][method]
        for key in sorted(by_level, key=float):
            e = by_level[key]
            rows.append({"method": method, LEVEL: flagged(level(key), level(key) in chance), "images": len(e["gini"]), "Gini": interval(gini_of(e)),
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


def at_chance(m: dict) -> np.ndarray:
    """Levels (in %) of ``m`` whose network is near chance (measured, left out of every verdict)."""
    return np.array([100 * s for s in m["levels"] if s not in m.get("shared_levels", m["levels"])])


def draw_levels(ax, x: np.ndarray, est: np.ndarray, lo: np.ndarray, hi: np.ndarray, chance: np.ndarray,
                label: str = "ours") -> None:
    """One series against the level removed, 95 % interval as a band; the networks near chance (levels
    ``chance``) as grey crosses that do not set the axis (pulled onto its edge when off it)."""
    off = np.isin(x, chance)
    ax.fill_between(x[~off], lo[~off], hi[~off], alpha=0.25, color="C0", label="95 % CI over images")
    ax.plot(x[~off], est[~off], "o-", color="C0", label=label)
    ylim = limits(np.concatenate([lo[~off], hi[~off], est[~off]]))
    if off.any():
        ax.plot(x[off], clamped(est[off], ylim), label=CHANCE_LABEL, **CHANCE)
    ax.set_ylim(*ylim)


def _per_level_plot(m: dict, pick, ylabel: str, reference: dict | None, ref_key: str) -> Figure:
    methods = in_order(m["methods"])
    fig, axes = plt.subplots(1, len(methods), figsize=(COLUMN_IN, 3.0), sharex=True, squeeze=False)
    axes = axes[0]
    for ax, method in zip(axes, methods):
        x, est, lo, hi = level_series(m, method, pick)
        draw_levels(ax, x, est, lo, hi, at_chance(m))
        if reference and method in reference[ref_key]:
            paper = reference[ref_key][method]
            ax.plot([100 * s for s in reference["sparsity"]], paper, "s--", color="C3", label="paper")
            ax.set_ylim(*limits([*ax.get_ylim(), *paper], pad=0.02))
        ax.set(title=label(method), xlabel="weights removed (%)", ylabel=ylabel if ax is axes[0] else None)
    axes[0].legend()
    return fig


def plot_gini(m: dict, reference: dict | None = None) -> Figure:
    """Mean Gini index of the maps vs pruning level (higher = sparser, more focused maps)."""
    return _per_level_plot(m, gini_of, "Gini index (mean over images)", reference, "gini")


def plot_aopc(m: dict, order: str = "morf", reference: dict | None = None) -> Figure:
    """AOPC (the authors' formula) of the ROAD curve vs pruning level; the paper reports MoRF only."""
    return _per_level_plot(m, lambda e: aopc_of(e, order), f"AOPC {ORDERS[order]} (authors')",
                           reference if order == "morf" else None, "aopc")


def plot_road_curves(m: dict, order: str = "morf", reference: dict | None = None) -> Figure:
    """ROAD accuracy vs % of pixels removed, one line per level (ours in the first row; the paper's in the second);
    the networks near chance are left out (named in the legend's title)."""
    ours = in_order(m["methods"])
    paper = [method for method in ours if reference and order == "morf" and method in reference["road"]]
    rows = 2 if paper else 1
    fig, axes = plt.subplots(rows, len(ours), figsize=(COLUMN_IN, 3.0 * rows + 0.2), sharey=True, squeeze=False)
    chance = set(at_chance(m).tolist())
    p = m["percentages"]
    cmap = plt.get_cmap("viridis")
    for ax, method in zip(axes[0], ours):
        levels = sorted(m["methods"][method], key=float)
        for i, s in enumerate(levels):
            ci = m["methods"][method][s]["road"][order]["curve"]
            if ci["estimate"] is None or 100 * float(s) in chance:  # no image explained, or a network at chance
                continue
            color = cmap(i / max(len(levels) - 1, 1))
            ax.plot(p, ci["estimate"], "-", color=color, label=f"{100 * float(s):.0f} %")
            ax.fill_between(p, ci["low"], ci["high"], color=color, alpha=0.12)
        ax.set(title=f"ours: {label(method)}", xlabel=f"pixels removed, {ORDERS[order]} (%)",
               ylabel="accuracy on imputed images" if ax is axes[0][0] else None)
    if paper:
        for ax, method in zip(axes[1], paper):
            curves = reference["road"][method]
            for i, s in enumerate(sorted(curves)):
                ax.plot(reference["road_percentages"], curves[s], "--", color=cmap(i / (len(curves) - 1)),
                        label=f"{100 * s:.0f} %")
            ax.set(title=f"paper: {label(method)}", xlabel="pixels removed, MoRF (%)",
                   ylabel="accuracy on imputed images" if ax is axes[1][0] else None)
        axes[1][len(paper) - 1].legend(title="weights removed", ncol=2)
        for ax in axes[1][len(paper):]:  # methods the paper did not measure (SmoothGrad)
            ax.axis("off")
    left_out = ", ".join(f"{c:.0f} %" for c in sorted(chance))
    drawn = next((ax.get_legend_handles_labels() for ax in axes[0] if ax.get_legend_handles_labels()[0]), None)
    if drawn:  # the levels are coloured alike in every panel: one legend says it
        axes[0][-1].legend(*drawn, title="weights removed" + (f"\n({left_out}: at chance)" if left_out else ""),
                           ncol=2)
    for ax in axes[0] if not drawn else ():
        ax.text(0.5, 0.5, f"no curve: every network at chance ({left_out})" if left_out else "no image explained",
                transform=ax.transAxes, ha="center", va="center", wrap=True)
    return fig


def describe(m: dict, quantity: str, order: str = "morf") -> str:
    """A sentence on a figure of ``quantity`` ("gini" or "aopc", with ``order``): per method, the dense network's
    value and that of the most pruned network not near chance, each with its 95 % interval over images."""
    pick = gini_of if quantity == "gini" else (lambda e: aopc_of(e, order))
    deepest = max([0.0] + [float(s) for s in m.get("shared_levels", m["levels"])])
    name = "Gini" if quantity == "gini" else f"AOPC {ORDERS[order]}"

    def said(method: str, s: float) -> str:
        ci = pick(m["methods"][method][level_key(s)])
        if ci["estimate"] is None:
            return "no image"
        return f"{ci['estimate']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]"

    parts = [f"{method} {said(method, 0.0)} dense, {said(method, deepest)} at {100 * deepest:.0f} %"
             for method in in_order(m["methods"])]
    return f"{name}: " + "; ".join(parts) + "."
