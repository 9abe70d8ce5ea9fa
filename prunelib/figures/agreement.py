"""Where does a pruned network look? Its maps' agreement with its dense parent against the seed-to-seed baseline.

Reads the sweep's ``summary.csv`` (rows ``agreement_spearman_m`` and ``agreement_top10_iou_m``, and the baseline
rows of network ``"dense vs other seeds"``), the agreement verdicts in ``seed_verdicts.json``
(:func:`prunelib.sweep.agreement.agreement_verdicts`) and the side-by-side picture the aggregation wrote
(:func:`prunelib.sweep.agreement.picture`); draws nothing it did not read. Sized for the book's 688 px column.
"""
from __future__ import annotations

import json
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import paths
from ..regimes import REGIMES
from ..measure.common import near_chance
from ..sweep.agreement import BASELINE, PICTURE, load_picture
from ..sweep.seed_rule import SEED_VERDICTS, interval
from ..sweep.summary import load_summary
from .style import COLUMN_IN, MIN_FONT_PT, PHOTO_DPI

MEASURES = {"spearman": "Spearman ρ", "top10_iou": "top-10 % IoU"}
METHODS = ("vg", "ig")
COLOURS = {"global": "C0", "lottery": "C2"}


def load_agreement(profile: str) -> tuple[pd.DataFrame, dict[str, Any] | None, dict[str, np.ndarray] | None]:
    """The sweep's summary, its agreement verdicts (None before the judging rule ran) and the picture (None
    where it was not drawn)."""
    verdicts = paths.results_dir(profile) / SEED_VERDICTS
    agreement = json.loads(verdicts.read_text()).get("agreement") if verdicts.is_file() else None
    return load_summary(profile), agreement, load_picture(paths.results_dir(profile) / PICTURE)


def _at_chance(df: pd.DataFrame) -> pd.Series:
    """Per row of ``df``, whether its network's top-1 is near chance."""
    top1 = df[df.metric == "top1"]
    bad = {(r.regime, r.seed, r.network, r.level) for r in top1.itertuples() if near_chance(r.value, 10)}
    return pd.Series([(r.regime, r.seed, r.network, r.level) in bad for r in df.itertuples()], index=df.index,
                     dtype=bool)


def plot_agreement(df: pd.DataFrame) -> Figure:
    """Agreement with the dense parent against the level removed: a panel per measure (rows) and saliency method
    (columns); per regime, each seed's networks (dots) and the mean over seeds (line); the unpruned control (star);
    the grey band spans the dense networks' agreement with the other seeds' dense networks (the seed-to-seed
    baseline: what a second training run changes). Networks near chance are drawn as grey triangles and set no axis."""
    chance = _at_chance(df)
    fig, axes = plt.subplots(2, 2, figsize=(COLUMN_IN, 5.4), sharex=True, squeeze=False)
    for row, measure in enumerate(MEASURES):
        for col, method in enumerate(METHODS):
            ax, metric = axes[row][col], f"agreement_{measure}_{method}"
            sub = df[df.metric == metric]
            base = sub[sub.network == BASELINE]
            if not base.empty:
                ax.axhspan(base.value.min(), base.value.max(), color="0.85",
                           label="dense vs other seeds (range over seeds)")
            at_chance: list[pd.DataFrame] = []
            for regime, colour in COLOURS.items():
                mine = (sub.regime == regime) & (sub.network != "dense")
                ok, bad = sub[mine & ~chance[sub.index]], sub[mine & chance[sub.index]]
                pruned = ok[ok.network == "pruned"]
                if not pruned.empty:
                    ax.plot(pruned.level, pruned.value, ".", color=colour, alpha=0.5, ms=5)
                    mean = pruned.groupby("level").value.mean()
                    ax.plot(mean.index, mean.values, "-", color=colour, label=f"{REGIMES[regime].label}: mean")
                control = ok[ok.network == "control"]
                if not control.empty:
                    ax.plot(control.level, control.value, "*", color=colour, ms=10, mec="k", mew=0.5,
                            label=REGIMES[regime].control_label)
                at_chance.append(bad)
            bad = pd.concat(at_chance) if at_chance else sub.iloc[:0]
            if not bad.empty:  # drawn where the axis the others set allows: a value below it sits on its edge
                low, high = ax.get_ylim()
                ax.plot(bad.level, bad.value.clip(low, high), "v", color="0.5", ms=5, scalex=False, scaley=False,
                        label="at chance (not judged; on the edge: below the axis)")
                ax.set_ylim(low, high)
            ax.set_title(f"{MEASURES[measure]}, {method.upper()}", fontsize=10)
            if row == 1:
                ax.set_xlabel("weights removed (%)")
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=2, frameon=False)
    return fig


def _over_seeds(values: list[float]) -> str:
    """The mean over seeds with its 95 % t-interval (none for one seed) and the number of seeds."""
    ci = interval(values)
    shown = f"{ci['estimate']:.3f}" + (f" [{ci['low']:.3f}, {ci['high']:.3f}]" if ci["low"] is not None else "")
    return f"{shown} ({len(values)} seed{'s' * (len(values) > 1)})"


def _baseline_cell(values: list[float]) -> str:
    """The seed-to-seed baseline: each seed's value pools its pairs with the other seeds, so S seeds hold only
    S(S-1)/2 pairs and their values are not independent (two seeds: one pair, the same value twice). The mean and
    the range over seeds, with the number of pairs; no t-interval."""
    pairs = len(values) * (len(values) - 1) // 2
    spread = f", range {min(values):.3f}-{max(values):.3f}" if max(values) > min(values) else ""
    return f"{np.mean(values):.3f}{spread} ({pairs} pair{'s' * (pairs != 1)} of seeds)"


def agreement_rows(df: pd.DataFrame, verdicts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per regime and level (and the control, and the baseline): per measure and method the mean over
    seeds with its 95 % t-interval (or the one seed's value), the number of seeds, and the verdict of the level
    against the seed-to-seed baseline (:func:`prunelib.sweep.agreement.agreement_verdicts`); one row saying so
    when no agreement is measured."""
    chance = _at_chance(df)
    sub = df[df.metric.str.startswith("agreement_") & (df.network != "dense") & ~chance]
    judged: dict[tuple[str, str, str, str], list[tuple[float, str]]] = {}  # the verdicts' levels are targets
    for regime, by_method in ((verdicts or {}).get("regimes") or {}).items():
        for m, by_measure in by_method.items():
            for measure, levels in by_measure.items():
                for level in levels:
                    judged.setdefault((regime, m, measure, level["network"]), []).append(
                        (level["level"], level["verdict"]))

    def verdict_at(key: tuple[str, str, str, str], level: float) -> str | None:
        near = [v for target, v in judged.get(key, []) if abs(target - level) <= 1.5]
        return near[0] if near else None
    rows = []
    keys = sub.assign(target=sub.level.round()).groupby(["regime", "network", "target"])
    for (regime, network, target), group in keys:
        row: dict[str, Any] = {"regime": regime, "network": network,
                               "level (%)": f"{group.level.mean():.0f}" if network == "pruned" else "0"}
        for measure, name in MEASURES.items():
            for m in METHODS:
                values = group[group.metric == f"agreement_{measure}_{m}"].value.tolist()
                if not values:
                    continue
                row[f"{name}, {m.upper()}"] = (_baseline_cell(values) if network == BASELINE else
                                               _over_seeds(values))
                verdict = verdict_at((regime, m.upper(), measure, network), group.level.mean())
                if verdict is not None:
                    row[f"verdict, {name}, {m.upper()}"] = verdict
        rows.append(row)
    return rows or [{"regime": "none", "network": "none", "level (%)": "",
                     "agreement": "not measured yet (it needs measurement protocol v2)"}]


def plot_agreement_picture(shown: dict[str, np.ndarray] | None) -> Figure:
    """One image and its maps side by side (rows: saliency methods), each titled with its agreement with the first
    map (the dense network of the first seed): Spearman ρ and top-10 % IoU."""
    if shown is None:
        fig, ax = plt.subplots(figsize=(COLUMN_IN, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no picture drawn yet: it needs the networks' maps, cached beside their checkpoints",
                ha="center", va="center", fontsize=10)
        return fig
    methods, labels = list(shown["methods"]), list(shown["labels"])
    fig, axes = plt.subplots(len(methods), len(labels) + 1, figsize=(COLUMN_IN, 1.65 * len(methods) + 0.2),
                             dpi=PHOTO_DPI, squeeze=False)
    for r, method in enumerate(methods):
        axes[r][0].imshow(shown["image"])
        axes[r][0].set_title("image" if r == 0 else "", fontsize=9)
        axes[r][0].set_ylabel(method, fontsize=10)
        for c, label in enumerate(labels):
            m = shown["maps"][r, c].astype(np.float32)
            axes[r][c + 1].imshow(m, cmap="magma", vmin=0, vmax=float(np.quantile(m, 0.99)) or 1.0)
            rho, iou = shown["spearman"][r, c], shown["top10_iou"][r, c]
            axes[r][c + 1].set_title(f"{label}\nρ {rho:.2f} · IoU {iou:.2f}", fontsize=MIN_FONT_PT)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
