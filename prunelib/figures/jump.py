"""The book's headline figure: what made the paper's jump, beside what pruning does.

The paper's Gini and AOPC MoRF of the Vanilla-Gradient maps jump from its dense network to its first pruned one.
Left of the line that splits the figure, the authors' training loop taken apart
(``results/<authors>/decomposition.json``, :mod:`prunelib.sweep.decomposition`): their code against its dense
network, the same loop retrained with nothing pruned, then what annealing and holding the mask change. Below it,
three seeds of global pruning at each light level against their dense networks (``results/<noise>/seed_verdicts.json``,
:mod:`prunelib.sweep.seed_rule`). Each row is an effect with its 95 % interval, over seeds where 3 or more are
measured, else over one seed's images (one training run, drawn open), and the paper's jump it stands for. Draws
nothing it did not read.
"""
from __future__ import annotations

import json
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import paths
from ..sweep.agreement import BASELINE
from ..sweep.decomposition import DECOMPOSITION
from .style import COLUMN_IN

SEED_VERDICTS = "seed_verdicts.json"
#: the metrics drawn (where the paper's jumps are largest), each with its title, as in seed_verdicts.json's claims
METRICS = (("gini_vg", "gini_light", "Gini, VG"), ("aopc_morf_vg", "aopc_light", "AOPC MoRF, VG"))
#: each network of the authors' loop in plain words
PLAIN = {"D": "dense", "A1": "their code", "S": "retrained without pruning", "C1": "annealed", "L1": "annealed, mask held"}
#: the contrasts of the decomposition drawn, in order
CONTRASTS = ("A1 - D", "S - D", "C1 - A1", "L1 - C1", "L1 - D")
AUTHORS_GROUP, GLOBAL_GROUP = "the authors' code, taken apart", "global pruning, 3 seeds"


def contrast_label(contrast: str) -> str:
    """``"A1 - D"`` -> ``"their code (A1) − dense (D)"``."""
    a, b = (name.strip() for name in contrast.split("-"))
    return f"{PLAIN[a]} ({a}) − {PLAIN[b]} ({b})"


def _effect(row: dict[str, Any]) -> dict[str, Any]:
    """One drawn effect from a row of the decomposition or of the seed rule: over seeds, the row itself; under 3
    seeds, the first seed's own interval over its images."""
    if row.get("unit") == "seed":
        return {"estimate": row["estimate"], "low": row["low"], "high": row["high"], "over": f"{len(row['seeds'])} seeds"}
    runs = sorted((int(s), r) for s, r in (row.get("within_runs") or {}).items())
    seed, run = runs[0] if runs else (int(next(iter(row["seeds"]))), row)
    return {"estimate": run["estimate"], "low": run["low"], "high": run["high"], "over": f"seed {seed}, one run"}


def jump_rows(parts: dict[str, Any] | None, verdicts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The figure's rows: one per effect and metric of :data:`METRICS`, ``{"group", "label", "metric",
    "estimate", "low", "high", "over", "paper_jump"}``; first the contrasts of :data:`CONTRASTS` measured in
    ``parts`` (decomposition.json), then global pruning's light levels judged over seeds in ``verdicts``
    (seed_verdicts.json: pruned minus dense, per level); what is not measured is left out."""
    rows = []
    by = {c["contrast"]: c["metrics"] for c in (parts or {}).get("contrasts", [])}
    for contrast in CONTRASTS:
        for metric, _, _ in METRICS:
            row = by.get(contrast, {}).get(metric)
            if row:
                rows.append({"group": AUTHORS_GROUP, "label": contrast_label(contrast), "metric": metric,
                             "paper_jump": row["paper_jump"], **_effect(row)})
    levels = (verdicts or {}).get("levels", {}).get("global", {}).get("dense", {})
    for metric, claim, _ in METRICS:
        for row in levels.get(claim, {}).get("VG", []):
            if row.get("unit") == "seed" and row.get("low") is not None:
                rows.append({"group": GLOBAL_GROUP, "label": f"global pruning, {row['level']:.0f} % − dense",
                             "metric": metric, "paper_jump": row.get("paper_jump"), **_effect(row)})
    return rows


def load_jump(noise_profile: str = "noise", authors_profile: str = "authors") -> list[dict[str, Any]]:
    """:func:`jump_rows` of ``results/<authors_profile>/decomposition.json`` and
    ``results/<noise_profile>/seed_verdicts.json`` (an absent file contributes no row)."""
    def read(file):
        return json.loads(file.read_text()) if file.is_file() else None
    return jump_rows(read(paths.results_dir(authors_profile) / DECOMPOSITION),
                     read(paths.results_dir(noise_profile) / SEED_VERDICTS))


def plot_jump(rows: list[dict[str, Any]]) -> Figure:
    """One panel per metric of :data:`METRICS`, one row per effect of ``rows`` (:func:`jump_rows`): the effect
    (dot; open where its interval is over one seed's images) with its 95 % interval (bar), the paper's jump it
    stands for (red square), zero (grey line); a rule between the authors' code and global pruning."""
    labels = list(dict.fromkeys(r["label"] for r in rows))
    groups = {r["label"]: r["group"] for r in rows}
    fig, axes = plt.subplots(1, 2, figsize=(COLUMN_IN, 0.5 + 0.3 * max(len(labels), 1)), sharey=True)
    for ax, (metric, _, title) in zip(axes, METRICS):
        ax.axvline(0, color="0.6", lw=1)
        drawn = {"effect": False, "one run": False, "paper": False}
        for r in (r for r in rows if r["metric"] == metric):
            y = labels.index(r["label"])
            ax.plot([r["low"], r["high"]], [y, y], "-", color="C0", lw=2)
            one_run = "one run" in r["over"]
            name = "effect, one run (seed 0)" if one_run else "effect, 95 % interval over seeds"
            ax.plot(r["estimate"], y, "o", color="C0", mfc="white" if one_run else "C0", ms=6,
                    label=None if drawn["one run" if one_run else "effect"] else name)
            drawn["one run" if one_run else "effect"] = True
            if r["paper_jump"] is not None:
                ax.plot(r["paper_jump"], y, "s", color="C3", ms=6, label=None if drawn["paper"] else "the paper's jump")
                drawn["paper"] = True
        ax.set_title(title)
        ax.set_xlabel("difference of the mean")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        split = [i for i in range(1, len(labels)) if groups[labels[i]] != groups[labels[i - 1]]]
        for i in split:
            ax.axhline(i - 0.5, color="0.3", lw=0.8)
    axes[0].set_yticks(range(len(labels)), labels)
    axes[0].set_ylim(len(labels) - 0.5, -0.5)
    handles = {h.get_label(): h for ax in axes for h in ax.get_lines() if not h.get_label().startswith("_")}
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=3, frameon=False)
    return fig


def agreement_fact(summary: pd.DataFrame) -> str | None:
    """How much the maps of the authors' round-1 network (their code, ``authors_code``, its lowest pruned level,
    the first seed that has it) agree with its dense parent's, beside how much two dense networks of different seeds
    agree (the seed-to-seed baseline, :data:`prunelib.sweep.agreement.BASELINE`): Spearman correlation of the
    Vanilla-Gradient maps, read from the authors' ``summary.csv``; None where either is not measured."""
    metric = "agreement_spearman_vg"
    code = summary[(summary.regime == "authors_code") & (summary.metric == metric)]
    base = summary[(summary.network == BASELINE) & (summary.metric == metric)]
    if code.empty or base.empty:
        return None
    seed = int(code.seed.min())
    first = code[code.seed == seed].sort_values("level").iloc[0]
    pair = " and ".join(str(int(s)) for s in sorted(base.seed.unique()))
    return (f"The maps of their round-1 network (seed {seed}) agree with its dense parent's at a Spearman correlation "
            f"of {first.value:.3f} (VG), barely more than two dense networks of different seeds agree with each "
            f"other ({base.value.mean():.3f}, seeds {pair}): their \"pruned\" network is close to a new training run.")
