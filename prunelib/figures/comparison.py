"""The paper beside the reproduction: one table, one headline figure, and the paired differences behind verdicts."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..provenance import Source
from ..saliency import in_order
from ..stages.faithfulness import aopc_of, gini_of, level_key
from .captions import captioned
from .faithfulness import label, level_series
from .tables import LEVEL, interval, percent


def load_comparison(stage_dir: str | Path) -> dict:
    """``comparison.json`` written by :func:`prunelib.stages.comparison.run_comparison_stage`."""
    return json.loads((Path(stage_dir) / "comparison.json").read_text())


def comparison_rows(acc: dict, m: dict, reference: dict) -> list[dict]:
    """One row per pruning level of either study: top-1 (%), Gini and AOPC (MoRF) per method, the paper's beside
    ours with its bootstrap 95 % interval; a level one of the two did not measure has no value there."""
    ours_top1 = {round(r["sparsity_target"], 4): r["val_top1"] for r in acc["levels"]}
    paper = {round(s, 4): i for i, s in enumerate(reference["sparsity"])}
    rows = []
    for s in sorted(set(ours_top1) | set(paper)):
        row = {LEVEL: round(100 * s),
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


def plot_headline(acc: dict, m: dict, reference: dict, source: Source | None = None) -> Figure:
    """Accuracy, Gini and AOPC vs pruning level: the paper (dashed squares) and ours (solid, 95 % CI band)."""
    panels = [(key, method) for key in ("gini", "aopc") for method in in_order(m["methods"])]
    fig, axes = plt.subplots(1, 1 + len(panels), figsize=(3.6 * (1 + len(panels)), 3.4))
    x = [100 * r["sparsity_target"] for r in acc["levels"]]
    axes[0].plot(x, [100 * r["val_top1"] for r in acc["levels"]], "o-", label="ours")
    axes[0].plot([100 * s for s in reference["sparsity"]], [100 * a for a in reference["top1"]], "s--", color="C3",
                 label="paper")
    axes[0].set(title="top-1 accuracy (%)", xlabel="weights removed (%)")
    for ax, (key, method) in zip(axes[1:], panels):
        pick = gini_of if key == "gini" else aopc_of
        xs, est, lo, hi = level_series(m, method, pick)
        ax.fill_between(xs, lo, hi, alpha=0.25, color="C0")
        ax.plot(xs, est, "o-", color="C0", label="ours (95 % CI)")
        if method in reference[key]:
            ax.plot([100 * s for s in reference["sparsity"]], reference[key][method], "s--", color="C3", label="paper")
        ax.set(title=f"{'Gini' if key == 'gini' else 'AOPC (MoRF)'}: {label(method)}",
               xlabel="weights removed (%)")
    axes[0].legend(fontsize=8)
    return captioned(fig, plot_headline, source)


def plot_differences(comparison: dict, source: Source | None = None) -> Figure:
    """Paired differences (level minus dense, same images) of Gini and AOPC with 95 % CIs: what verdicts rest on."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, q in zip(axes, ("gini", "aopc")):
        methods = in_order(comparison["differences"][q])
        for k, method in enumerate(methods):
            d = comparison["differences"][q][method]
            levels = [s for s in sorted(d, key=float) if d[s]["estimate"] is not None]  # None: no shared image
            xs = [100 * float(s) + (k - (len(methods) - 1) / 2) * 1.2 for s in levels]
            est = [d[s]["estimate"] for s in levels]
            err = [[d[s]["estimate"] - d[s]["low"] for s in levels], [d[s]["high"] - d[s]["estimate"] for s in levels]]
            ax.errorbar(xs, est, yerr=err, fmt="o", capsize=3, label=label(method))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set(title=f"{'Gini' if q == 'gini' else 'AOPC (MoRF)'}: level − dense (paired, 95 % CI)",
               xlabel="weights removed (%)")
    axes[0].legend(fontsize=8)
    return captioned(fig, plot_differences, source)
