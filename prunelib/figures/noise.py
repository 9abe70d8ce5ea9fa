""""Is it noise?": every metric against the level removed, both regimes, with the dense seeds' spread as a band.

Reads the sweep's tidy table (``results/<profile>/summary.csv``, :mod:`prunelib.sweep.summary`) and, for the
history of protocol v1, the spread of its dense networks computed from its jobs' result files; draws nothing it
did not read.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..reference import load_reference
from ..regimes import REGIMES
from ..runs import first_network
from ..saliency import METHODS
from ..measure.common import near_chance
from .style import CHANCE, CHANCE_LABEL, COLUMN_IN, clamped, limits
from .tables import LEVEL, flagged


def panels(df: pd.DataFrame) -> list[tuple[str, str, tuple[str, str | None] | None]]:
    """The figure's panels for the metrics in ``df``: (metric, title, the paper's series as (key, method) or None).

    Top-1, then per saliency method (in the order of :data:`prunelib.saliency.METHODS`) Gini, AOPC MoRF and the
    MoRF - LeRF gap, then the random-order AOPC and the concept metrics where present. A metric measured on fewer
    seeds than the figure shows names them in its title (:func:`seed_note`), read from ``df``: its points, lines
    and dense band come from those seeds only."""
    present = set(df.metric)
    out = [("top1", "top-1 (%)", ("top1", None))]
    for name, method in METHODS.items():
        m = name.lower()
        out += [(f"gini_{m}", f"Gini, {name}", ("gini", name)), (f"aopc_morf_{m}", f"AOPC MoRF, {name}", ("aopc", name)),
                (f"aopc_gap_{m}", f"AOPC MoRF - LeRF, {name}", None)]
    out.append(("aopc_random", "AOPC, random order", None))
    out += [("coherence_gain", "CRAFT coherence gain", None), ("concept_similarity", "CRAFT concept similarity", None)]
    return [(metric, title + seed_note(df, metric), paper) for metric, title, paper in out if metric in present]


def seed_note(df: pd.DataFrame, metric: str) -> str:
    """`` (seed 0)``, `` (seeds 0, 2)``: the seeds of ``metric`` in the figure's regimes (:data:`COLOURS`) where
    they are fewer than the seeds of the figure (any metric); "" where the metric has every seed."""
    drawn = df[df.regime.isin(list(COLOURS))]
    every, own = set(drawn.seed), sorted(set(drawn[drawn.metric == metric].seed))
    if not own or set(own) == every:
        return ""
    return f" (seed{'s' if len(own) > 1 else ''} {', '.join(str(int(s)) for s in own)})"


def metric_name(metric: str) -> str:
    """A metric of ``summary.csv`` as the book names it: ``gini_vg`` -> ``Gini, VG``, ``aopc_gap_ig`` ->
    ``AOPC MoRF - LeRF, IG``, ``top1`` -> ``top-1``; any other with spaces for underscores."""
    group, column = heading(metric)
    if metric in ("top1", "aopc_random"):
        return {"top1": "top-1", "aopc_random": "AOPC, random order"}[metric]
    return f"{column}, {group}" if column and group in METHODS else (f"{group}, {column}" if column else group)


COLOURS = {"global": "C0", "lottery": "C2"}


def coverage(df: pd.DataFrame) -> str:
    """What ``df`` (a ``summary.csv``) measured, per regime, seeds grouped by the largest level they reach:
    ``"<global label>: seed 0 to 98 %, seeds 1 and 2 to 50 %; <lottery label>: seed 1 to 49 %, with the unpruned
    control of seed 1"`` (the labels of :data:`prunelib.regimes.REGIMES`, in its order)."""
    parts = []
    for regime in [r for r in REGIMES if r in set(df.regime)]:
        nets = df[df.regime == regime]
        reach = nets[nets.network != "control"].groupby("seed")["level"].max()
        by_level: dict[float, list[int]] = {}
        for seed, level in reach.items():
            by_level.setdefault(float(level), []).append(int(seed))
        said = ", ".join(f"{_seeds(seeds)} to {level:.0f} %" for level, seeds in sorted(by_level.items(), reverse=True))
        controls = sorted(int(s) for s in nets[nets.network == "control"].seed.unique())
        if controls:
            said += f", with the unpruned control of {_seeds(controls)}"
        parts.append(f"{REGIMES[regime].label}: {said}")
    return "; ".join(parts)


def _seeds(seeds: list[int]) -> str:
    """``[0]`` -> ``seed 0``, ``[1, 2]`` -> ``seeds 1 and 2``, ``[0, 1, 2]`` -> ``seeds 0, 1 and 2``."""
    seeds = sorted(seeds)
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return "seeds " + ", ".join(str(s) for s in seeds[:-1]) + f" and {seeds[-1]}"


def same_networks(study: pd.DataFrame, archived: pd.DataFrame) -> list[tuple[str, int]]:
    """(regime, seed) of the jobs whose networks are the same in two measurements (``summary.csv`` tables: the fixed
    image set's and protocol v1's): the same top-1 on the validation set, to six digits, at every level both
    measured. Top-1 is measured on the whole validation set in both, so only the network can change it."""
    def top1(df: pd.DataFrame) -> pd.Series:
        rows = df[df.metric == "top1"]
        return rows.set_index(["regime", "seed", "network", rows.level.round(1)]).value.round(6)
    a, b = top1(study), top1(archived)
    both = a.index.intersection(b.index)
    same = []
    for (regime, seed), _ in both.to_frame(index=False).groupby(["regime", "seed"]):
        keys = [k for k in both if k[:2] == (regime, seed)]
        if (a.loc[keys] == b.loc[keys]).all():
            same.append((str(regime), int(seed)))
    return same


def same_networks_said(study: pd.DataFrame, archived: pd.DataFrame) -> str:
    """:func:`same_networks` in a sentence for the book: which seeds are the same networks in both measurements,
    and which were trained again."""
    same = same_networks(study, archived)
    parts = []
    for regime in [r for r in REGIMES if r in set(study.regime) & set(archived.regime)]:
        seeds = sorted(int(s) for s in set(study[study.regime == regime].seed) & set(archived[archived.regime == regime].seed))
        kept = [s for s in seeds if (regime, s) in same]
        again = [s for s in seeds if (regime, s) not in same]
        said = []
        if kept:
            said.append(f"{_seeds(kept)} {'is the same network' if len(kept) == 1 else 'are the same networks'} in "
                        "both (the same top-1 to six digits at every level both measured)")
        if again:
            said.append(f"{_seeds(again)} {'was' if len(again) == 1 else 'were'} trained again for the fixed set")
        parts.append(f"{REGIMES[regime].label}: " + "; ".join(said))
    return ". ".join(p[0].upper() + p[1:] for p in parts) + "." if parts else ""


def dense_band(df: pd.DataFrame, metric: str) -> tuple[float, float, int]:
    """(min, max, number of seeds) of ``metric`` over the dense networks of every seed (global regime's runs)."""
    dense = df[(df.network == "dense") & (df.metric == metric) & (df.regime == "global")]
    if dense.empty:
        dense = df[(df.network == "dense") & (df.metric == metric)]
    return float(dense.value.min()), float(dense.value.max()), int(dense.seed.nunique())


def chance_networks(df: pd.DataFrame) -> set[tuple[str, int, str, float]]:
    """(regime, seed, network, level) of every network of ``df`` whose top-1 is near chance."""
    top1 = df[df.metric == "top1"]
    return {(r.regime, int(r.seed), r.network, float(r.level)) for r in top1.itertuples() if near_chance(r.value, 10)}


def mean_line(every: pd.DataFrame, judged: pd.DataFrame) -> tuple[list[int], pd.Series]:
    """The seeds a regime's line averages and the line: (those seeds, their mean value per level).

    ``every``: one regime's pruned and dense networks of one metric (``seed``, ``level``, ``value``), networks
    near chance included; ``judged``: those of them not near chance. The line averages only the seeds that have
    every level of ``every`` (a seed with only its dense network, say, is left out: a mean over other seeds at
    other levels would draw a step that is only the averaging), and only at the levels where every one of those
    seeds is judged (a level where one of them is near chance has no point), so each of its points is a mean over
    the same seeds. No seed with every level: ``([], empty)``."""
    levels = set(every.level)
    seeds = sorted(int(s) for s, g in every.groupby("seed") if set(g.level) >= levels)
    mine = judged[judged.seed.isin(seeds)]
    counts = mine.groupby("level").seed.nunique()
    kept = counts.index[counts == len(seeds)] if seeds else []
    line = mine[mine.level.isin(kept)].groupby("level").value.mean()
    return seeds, line.sort_index()


def line_label(regime: str, seeds: list[int]) -> str:
    """The legend's name for a regime's line over ``seeds`` (:func:`mean_line`): ``global: mean of seeds 0, 1 and
    2``, or with one seed ``global: seed 0`` (the regime's label of :data:`prunelib.regimes.REGIMES`)."""
    what = f"mean of {_seeds(seeds)}" if len(seeds) > 1 else f"seed {seeds[0]}"
    return f"{REGIMES[regime].label}: {what}"


def plot_noise(df: pd.DataFrame, *, metrics: tuple[str, ...] | None = None, reference: dict | None = None) -> Figure:
    """One panel per metric, three a row: each seed's networks (small dots), per regime a line, the dense seeds'
    range (grey band), each regime's unpruned control (star at 0 %, in its colour) and the paper (squares).
    Networks near chance are grey crosses, left out of the lines, and do not set the axis.

    A regime's line is the mean over the seeds that have every one of its levels (:func:`mean_line`), named in
    the legend (``mean of seeds 0, 1 and 2``); a seed that lacks a level is dots only. Where only one seed has every
    level the line is that seed's, dotted (``seed 0``); where none has, each seed's own networks are joined
    (``each seed, no mean``). A panel whose metric only some seeds have names them in its title (:func:`panels`):
    its band is then over those seeds' dense networks only."""
    reference = reference if reference is not None else load_reference()
    chosen = [p for p in panels(df) if metrics is None or p[0] in metrics]
    cols = min(3, len(chosen))
    rows = -(-len(chosen) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(COLUMN_IN, 2.3 * rows + 0.9), squeeze=False)
    chance = chance_networks(df)
    for ax, (metric, label, paper) in zip(axes.flat, chosen):
        scale = 100.0 if metric == "top1" else 1.0  # top-1 in %, as everywhere in the book
        sub = df[df.metric == metric].assign(value=lambda d: scale * d.value)
        off = np.array([(r.regime, int(r.seed), r.network, float(r.level)) in chance for r in sub.itertuples()],
                       dtype=bool)
        judged, at_chance = sub[~off], sub[off]
        low, high = (scale * v for v in dense_band(df, metric)[:2])
        ax.axhspan(low, high, color="0.85", label="dense networks: range over seeds (a line: one seed)")
        seen = [low, high]
        for regime, colour in COLOURS.items():
            r = judged[(judged.regime == regime) & (judged.network != "control")]
            if r.empty:
                continue
            ax.plot(r.level, r.value, ".", color=colour, alpha=0.45, ms=4)
            seeds, line = mean_line(sub[(sub.regime == regime) & (sub.network != "control")], r)
            if seeds:
                ax.plot(line.index, line.values, "-" if len(seeds) > 1 else ":", color=colour,  # a mean, or one seed
                        label=line_label(regime, seeds))
            else:  # no seed has every level: no mean, each seed's own networks joined
                for _, own in r.sort_values("level").groupby("seed"):
                    ax.plot(own.level, own.value, "-", color=colour, lw=0.8, alpha=0.6,
                            label=f"{REGIMES[regime].label}: each seed, no mean")
            seen += r.value.tolist()
            control = judged[(judged.regime == regime) & (judged.network == "control")]
            if not control.empty:
                ax.plot(control.level, control.value, "*", color=colour, ms=11, mec="k", mew=0.5,
                        label=REGIMES[regime].control_label)
                seen += control.value.tolist()
        if paper is not None and metric != "top1" and paper[1] in reference[paper[0]]:
            series = reference[paper[0]][paper[1]]
        elif paper is not None:
            series = reference["top1"]
        else:
            series = None
        if series is not None:
            series = [scale * v for v in series]
            ax.plot([100 * s for s in reference["sparsity"]], series, "s--", color="C3", ms=3, lw=0.8,
                    label="paper (224 px, lottery)")
            seen += series
        ylim = (0.0, 100.0) if metric == "top1" else limits(seen)
        if not at_chance.empty:
            ax.plot(at_chance.level, clamped(at_chance.value, ylim), label=CHANCE_LABEL, **CHANCE)
        ax.set_ylim(*ylim)
        ax.set(title=label)
    for ax in axes.flat[len(chosen):]:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:len(chosen)]):
        if i + cols >= len(chosen):  # the lowest panel of its column
            ax.set_xlabel("weights removed (%)")
    handles = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=2, frameon=False)
    return fig


def spread_rows(df: pd.DataFrame, runs: list[dict], reference: dict | None = None) -> list[dict]:
    """Per metric: the dense networks' values of global pruning's seeds (each over its own job's images) and how far
    apart they are, beside how far the same network moves on another job's images, the seeds' largest paired
    difference on the same images, and the paper's dense -> 10 % jump (where it has one). Computed from the jobs'
    result files ``runs`` (raw per-image values, each number rounded once where shown): one dense network per seed
    of the global regime (another job's copy of a seed's dense network, such as the lottery job's, counts only for
    "same network, other images"). A metric with no per-image values (the concept metrics) shows its values from
    ``df`` and no range."""
    reference = reference if reference is not None else load_reference()
    paper_jump = {f"{stem}_{method.lower()}": values[1] - values[0] for key, stem in (("gini", "gini"), ("aopc", "aopc_morf"))
                  for method, values in reference[key].items()}
    rows = []
    for metric, *_ in panels(df):
        if metric in ("top1", "aopc_random"):
            continue
        dense = df[(df.network == "dense") & (df.metric == metric) & (df.regime == "global")].sort_values("seed")
        if dense.empty:
            continue
        spread = _spread(runs, metric)
        shown = spread["per_seed"] if spread else list(dense.value)
        rows.append({"metric": metric_name(metric), "dense, per seed": ", ".join(f"{v:.3f}" for v in shown),
                     "seed-to-seed range": {"own images": spread.get("own_images"),
                                            "same images": spread.get("same_images")},
                     "same network, other images": spread.get("same_network"),
                     "paper: dense -> 10 %": paper_jump.get(metric)})
    return rows


def _spread(runs: list[dict], metric: str) -> dict:
    """The raw numbers of one row of :func:`spread_rows` (``{}`` for a metric without per-image values)."""
    from ..sweep.records import same_network
    from ..sweep.seed_rule import measured, per_image
    stem, _, method = metric.rpartition("_")
    method = method.upper()
    if stem not in ("gini", "aopc_morf", "aopc_lerf", "aopc_gap"):
        return {}
    dense = {r["seed"]: n for r in sorted(runs, key=lambda r: r["seed"])
             if r["regime"] == "global" and (n := first_network(r["networks"], "dense")) is not None}
    values = {s: per_image(n, stem, method) for s, n in dense.items() if measured(n, stem, method)}
    if not values:
        return {}
    means = {s: float(np.mean(list(v.values()))) for s, v in values.items()}
    paired = [abs(float(np.mean([values[a][i] - values[b][i] for i in set(values[a]) & set(values[b])])))
              for a in values for b in values if a < b and set(values[a]) & set(values[b])]
    copies = [abs(float(np.mean(list(per_image(n, stem, method).values()))) - means[r["seed"]])
              for r in runs if r["regime"] != "global" and r["seed"] in means
              for n in r["networks"] if n["network"] == "dense" and measured(n, stem, method)
              and same_network(n, dense[r["seed"]])]
    return {"per_seed": [means[s] for s in sorted(means)], "own_images": max(means.values()) - min(means.values()),
            "same_images": max(paired) if paired else None, "same_network": max(copies) if copies else None}


#: the CRAFT metrics of ``summary.csv`` (the seeds of the profile's ``concept_seeds`` only)
CONCEPT_METRICS = ("coherence_gain", "concept_similarity", "importance_entropy", "reconstruction_error")
#: the columns that name a network in :func:`network_rows`
NETWORK = ["regime", "seed", "network", LEVEL]


def measure_order(metrics: set[str]) -> list[str]:
    """``metrics`` in reading order: top-1; per saliency method (in the order of :data:`prunelib.saliency.METHODS`)
    Gini, AOPC MoRF, AOPC LeRF and the gap; the random-order AOPC; the concept metrics; any other, by name."""
    known = ["top1"] + [f"{stem}_{name.lower()}" for name in METHODS
                        for stem in ("gini", "aopc_morf", "aopc_lerf", "aopc_gap")] + ["aopc_random", *CONCEPT_METRICS]
    return [m for m in known if m in metrics] + sorted(metrics - set(known))


#: the column of a metric's stem under its saliency method's heading (:func:`heading`)
STEMS = {"gini": "Gini", "aopc_morf": "AOPC MoRF", "aopc_lerf": "AOPC LeRF", "aopc_gap": "AOPC MoRF - LeRF"}


def heading(metric: str) -> tuple[str, str]:
    """Where a metric of ``summary.csv`` goes in a table, as (heading, column under it; "" for none):
    ``gini_vg`` -> ("VG", "Gini"), ``top1`` -> ("top-1 (%)", ""), ``aopc_random`` -> ("random order", "AOPC"),
    any other -> its name with spaces (``coherence_gain`` -> ("coherence gain", ""))."""
    if metric == "top1":
        return "top-1 (%)", ""
    if metric == "aopc_random":
        return "random order", "AOPC"
    stem, _, method = metric.rpartition("_")
    names = {name.lower(): name for name in METHODS}
    if stem in STEMS and method in names:
        return names[method], STEMS[stem]
    return metric.replace("_", " "), ""


def network_rows(df: pd.DataFrame, *, concepts: bool = False) -> list[dict]:
    """Every network of the sweep's table (``summary.csv``) in one row: :data:`NETWORK` (the level as an integer
    % removed), then the value of each metric in :func:`measure_order` under its :func:`heading` (a saliency
    method's metrics grouped under the method), top-1 in %; a metric a network lacks is missing.

    ``concepts``: the CRAFT metrics (:data:`CONCEPT_METRICS`), for the networks that have them, instead of the
    others. The intervals and image counts stay in ``summary.csv``. A network near chance is flagged beside its
    level."""
    chosen = df[df.metric.isin(CONCEPT_METRICS) == concepts]
    chance = {(regime, seed, network, round(lvl)) for regime, seed, network, lvl in chance_networks(df)}
    metrics = measure_order(set(chosen.metric))
    rows: dict[tuple, dict] = {}

    def put(row: dict, metric: str, value: float | None) -> None:
        group, column = heading(metric)
        if column:
            row.setdefault(group, {})[column] = value
        else:
            row[group] = value

    for r in chosen.itertuples(index=False):
        key = (r.regime, int(r.seed), r.network, round(r.level))
        if key not in rows:
            rows[key] = dict(zip(NETWORK, (*key[:3], flagged(key[3], key in chance))))
            for metric in metrics:  # every row has every column, in one order
                put(rows[key], metric, None)
        put(rows[key], r.metric, 100 * r.value if r.metric == "top1" else r.value)
    return list(rows.values())
