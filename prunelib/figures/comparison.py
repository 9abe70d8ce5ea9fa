"""The paper beside the reproduction: one table, one headline figure, and the paired differences behind verdicts."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..saliency import in_order
from ..measure.common import near_chance
from ..measure.faithfulness import aopc_of, gini_of, level_key
from .faithfulness import at_chance, draw_levels, label, level_series
from .style import CHANCE, CHANCE_LABEL, COLUMN_IN, clamped, limits
from .tables import LEVEL, flagged, interval, percent


def load_comparison(stage_dir: str | Path) -> dict:
    """``comparison.json`` written by :func:`prunelib.chapters.comparison.run_comparison_stage`."""
    return json.loads((Path(stage_dir) / "comparison.json").read_text())


def comparison_rows(acc: dict, m: dict, reference: dict) -> list[dict]:
    """One row per pruning level of either study: top-1 (%), Gini and AOPC (MoRF) per method, the paper's beside
    ours with its bootstrap 95 % interval; a level one of the two did not measure has no value there; our network
    near chance flagged beside its level."""
    ours_top1 = {round(r["sparsity_target"], 4): r["val_top1"] for r in acc["levels"]}
    paper = {round(s, 4): i for i, s in enumerate(reference["sparsity"])}
    rows = []
    for s in sorted(set(ours_top1) | set(paper)):
        chance = s in ours_top1 and near_chance(ours_top1[s], len(acc["classes"]))
        row = {LEVEL: flagged(round(100 * s), chance),
               "top-1 (%)": {"paper": percent(_at(reference["top1"], paper, s)), "ours": percent(ours_top1.get(s))}}
        for method in in_order(m["methods"]):
            e = m["methods"][method].get(level_key(s))
            for name, key, pick in (("Gini", "gini", gini_of), ("AOPC MoRF", "aopc", aopc_of)):
                row[f"{name}, {method}"] = {"paper": _at(reference[key].get(method), paper, s),
                                            **interval(pick(e) if e else None, value="ours")}
        rows.append(row)
    return rows


def _at(values: list | None, index: dict, s: float) -> float | None:
    return values[index[s]] if values is not None and s in index else None


def plot_headline(acc: dict, m: dict, reference: dict) -> Figure:
    """Top-1 (%), Gini and AOPC MoRF vs pruning level: the paper (dashed squares) and ours (solid, 95 % CI band),
    networks near chance as grey crosses."""
    methods = in_order(m["methods"])
    cols = 3  # top-1 and one panel per (metric, method), three a row
    fig, axes = plt.subplots(-(-(1 + 2 * len(methods)) // cols), cols, figsize=(COLUMN_IN, 5.0), squeeze=False)
    flat = list(axes.flat)
    top1_ax, panels = flat[0], [(key, method) for key in ("gini", "aopc") for method in methods]
    x = np.array([100 * r["sparsity_target"] for r in acc["levels"]])
    top1 = np.array([100 * r["val_top1"] for r in acc["levels"]])
    chance = at_chance(m)
    off = np.isin(x, chance)
    top1_ax.plot(x[~off], top1[~off], "o-", color="C0", label="ours (95 % CI over images)")
    if off.any():
        top1_ax.plot(x[off], top1[off], label=CHANCE_LABEL, **CHANCE)
    top1_ax.plot([100 * s for s in reference["sparsity"]], [100 * a for a in reference["top1"]], "s--", color="C3",
                 label="paper (224 px, lottery)")
    top1_ax.set(title="top-1 (%)", ylim=(0, 100))
    for ax, (key, method) in zip(flat[1:], panels):
        pick = gini_of if key == "gini" else aopc_of
        draw_levels(ax, *level_series(m, method, pick), chance)
        if method in reference[key]:
            ax.plot([100 * s for s in reference["sparsity"]], reference[key][method], "s--", color="C3")
            ax.set_ylim(*limits([*ax.get_ylim(), *reference[key][method]], pad=0.02))
        ax.set(title=f"{'Gini' if key == 'gini' else 'AOPC MoRF'}, {method}")
    for ax in flat[1 + len(panels):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("weights removed (%)")
    handles = {lab: h for ax in flat for h, lab in zip(*ax.get_legend_handles_labels())
               if lab not in ("ours", "95 % CI over images")}  # the top-1 panel names them once
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=2)
    return fig


def plot_differences(comparison: dict) -> Figure:
    """Paired differences (level minus dense, same images) of Gini and AOPC with their 95 % t-intervals over images:
    what the verdicts rest on.
    Networks near chance are grey and do not set the axis."""
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_IN, 3.0))
    chance = {float(s) for s in comparison.get("at_chance", [])}
    for ax, q in zip(axes, ("gini", "aopc")):
        methods = in_order(comparison["differences"][q])
        judged_values, off = [], []
        for k, method in enumerate(methods):
            d = comparison["differences"][q][method]
            levels = [s for s in sorted(d, key=float) if d[s]["low"] is not None]  # None: fewer than 2 shared images
            shift = lambda s: 100 * float(s) + (k - (len(methods) - 1) / 2) * 1.5  # noqa: E731
            judged = [s for s in levels if float(s) not in chance]
            est = [d[s]["estimate"] for s in judged]
            err = [[d[s]["estimate"] - d[s]["low"] for s in judged], [d[s]["high"] - d[s]["estimate"] for s in judged]]
            ax.errorbar([shift(s) for s in judged], est, yerr=err, fmt="o", capsize=3, label=label(method))
            judged_values += [d[s][b] for s in judged for b in ("low", "high")]
            off += [(shift(s), d[s]["estimate"]) for s in levels if float(s) in chance]
        ylim = limits([*judged_values, 0.0])
        if off:
            xs, ys = zip(*off)
            ax.plot(xs, clamped(ys, ylim), label=CHANCE_LABEL, **CHANCE)
        ax.set_ylim(*ylim)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set(title=f"{'Gini' if q == 'gini' else 'AOPC MoRF'}: level − dense", xlabel="weights removed (%)")
    axes[0].legend()
    return fig
