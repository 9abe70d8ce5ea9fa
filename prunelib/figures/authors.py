""""What the authors' code did": the networks their training loop saves, and its decomposition into ingredients.

Reads the sweep's ``results/<profile>/decomposition.json`` (:mod:`prunelib.sweep.decomposition`), which the
aggregation writes from the jobs' result files of the ``authors_*`` regimes; draws nothing it did not read. Every
figure is sized for the book's text column (:mod:`prunelib.figures.style`).
"""
from __future__ import annotations

import json
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import paths
from ..sweep.decomposition import CONTRASTS, DECOMPOSITION, METRICS, NETWORKS, verdict_text
from .style import COLUMN_IN

#: one name per quantity, as the book writes it
METRIC_NAMES = {"gini_vg": "Gini, VG", "gini_ig": "Gini, IG", "aopc_morf_vg": "AOPC MoRF, VG",
                "aopc_morf_ig": "AOPC MoRF, IG"}
#: what each network is, in a phrase
NETWORK_NAMES = {"D": "dense (their recipe, cosine)", "A1": "their code path, round 1 (their \"20 %\")",
                 "A2": "their code path, round 2 (their \"30 %\")", "S": "rewound, nothing pruned, constant rate",
                 "M1": "round 1, mask held, constant rate", "C1": "round 1, mask not held, cosine",
                 "L1": "round 1, mask held, cosine (lottery ticket)"}


def load_decomposition(profile: str = "authors") -> dict[str, Any] | None:
    """``decomposition.json`` of ``profile``, or None when no job of the authors' regimes has finished yet."""
    file = paths.results_dir(profile) / DECOMPOSITION
    return json.loads(file.read_text()) if file.is_file() else None


def network_rows(parts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per network the loop was asked for and seed measured: what it is, its top-1, the sparsity its mask
    would enforce and the sparsity of the network it saved (both in % of the weights), and its learning rate at
    the first and last epoch; networks not measured yet are listed as such."""
    measured = {int(s): nets for s, nets in (parts or {}).get("networks", {}).items()} or {0: {}}
    rows = []
    for seed, nets in sorted(measured.items()):
        for name in NETWORKS:
            net = nets.get(name)
            if net is None:
                rows.append({"seed": seed, "network": name, "what it is": NETWORK_NAMES[name],
                             "top-1 (%)": "not measured yet"})
                continue
            lrs = [h["lr"] for h in net.get("history", []) if h.get("lr") is not None]
            rows.append({"seed": seed, "network": name, "what it is": NETWORK_NAMES[name],
                         "top-1 (%)": 100 * net["top1"],
                         "mask sparsity (%)": None if net["mask_sparsity"] is None else 100 * net["mask_sparsity"],
                         "saved network's sparsity (%)": net["level"],
                         "learning rate, first → last epoch": f"{lrs[0]:.1e} → {lrs[-1]:.1e}" if lrs else None,
                         "images of the set correct": net.get("n_correct")})
    return rows


def contrast_rows(parts: dict[str, Any] | None, over_seeds: bool | None = None) -> list[dict[str, Any]]:
    """One row per contrast (named with what it isolates) and metric measured: the estimate with its 95 % interval,
    what the interval is over (seeds, or one seed's images), the paper's jump it is set beside and the verdict; one
    row saying so when no contrast is measured yet. ``over_seeds``: only the rows judged over seeds (True) or only
    those judged within one run (False), so that the two never stand in one table."""
    rows = []
    order = [f"{stem}_{method.lower()}" for stem, method in METRICS]
    for contrast in (parts or {}).get("contrasts", []):
        for metric, row in sorted(contrast["metrics"].items(), key=lambda kv: order.index(kv[0])):
            if over_seeds is not None and (row["unit"] == "seed") != over_seeds:
                continue
            for over, judged in _judged(row):
                rows.append({"contrast": f"{contrast['contrast']}: {contrast['isolates']}",
                             "metric": METRIC_NAMES[metric],
                             "effect": {"value": judged["estimate"], "95 % interval": _interval(judged)},
                             "interval over": over, "paper's jump": row["paper_jump"],
                             "verdict": verdict_text({**judged, "unit": row["unit"],
                                                          "paper_jump": row["paper_jump"]})})
    return rows or [{"contrast": "none", "metric": "none", "verdict": "no two networks of a contrast measured yet"}]


def contrast_tables(parts: dict[str, Any] | None, over_seeds: bool | None = None) -> list[list[dict[str, Any]]]:
    """:func:`contrast_rows` as one table per contrast, in their order, so that each table (its metrics, each seed
    where judged within one run) stays short enough for a phone's screen however many contrasts are measured."""
    rows = contrast_rows(parts, over_seeds)
    return [[r for r in rows if r["contrast"] == name] for name in dict.fromkeys(r["contrast"] for r in rows)]


def _judged(row: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """What a contrast's row is judged over and how: over seeds, the row itself; within one run, each seed's own
    interval over its images (the rule of fewer than 3 seeds), named by seed; a seed whose two networks were pruned
    from different realizations of ``D`` is named as compared through their parents."""
    across = sorted(int(s) for s in row.get("across_parents", []))
    if row["unit"] == "seed":
        said = f" ({', '.join(map(str, across))}: {ACROSS})" if across else ""
        return [(f"{len(row['seeds'])} seeds{said}", row)]
    runs = {int(s): r for s, r in row.get("within_runs", {}).items()}
    if not runs:  # a decomposition written before each seed's run was kept: the first seed's
        return [(f"{next(iter(row['n_images'].values()))} images, seed {next(iter(row['seeds']))}", row)]
    return [(f"{r['n_images']} images, seed {s}" + (f" ({ACROSS})" if s in across else ""), r)
            for s, r in sorted(runs.items())]


#: how a seed's contrast between networks of two realizations of D is computed (prunelib.sweep.decomposition)
ACROSS = "each network against its own D"


def _interval(row: dict[str, Any]) -> str | None:
    return None if row["low"] is None else f"[{row['low']:+.4f}, {row['high']:+.4f}]"


def fullest_seed(parts: dict[str, Any] | None) -> int:
    """The seed with the most networks whose epochs are recorded (the lowest among equals; 0 when none is)."""
    by_seed = {int(s): sum(bool(n.get("history")) for n in nets.values())
               for s, nets in (parts or {}).get("networks", {}).items()}
    return max(sorted(by_seed), key=lambda s: by_seed[s], default=0)


def plot_learning_rates(parts: dict[str, Any] | None, seed: int = 0) -> Figure:
    """The learning rate of every epoch (left) and the validation top-1 after it (right) of seed ``seed``'s
    networks: the dense network anneals to 0, the authors' later rounds retrain at a constant rate."""
    by_seed = {int(s): nets for s, nets in (parts or {}).get("networks", {}).items()}  # str keys once in JSON
    nets = {k: v for k, v in by_seed.get(seed, {}).items() if v.get("history")}
    fig, (lr_ax, acc_ax) = plt.subplots(1, 2, figsize=(COLUMN_IN, 3.9))
    for i, (name, net) in enumerate(sorted(nets.items(), key=lambda kv: list(NETWORKS).index(kv[0]))):
        epochs = [h["epoch"] + 1 for h in net["history"]]
        style = {"color": f"C{i}", "label": name, "lw": 1.5, "ls": "-" if i % 2 == 0 else "--"}
        lr_ax.plot(epochs, [h["lr"] for h in net["history"]], **style)
        acc_ax.plot(epochs, [100 * h["val_top1"] for h in net["history"]], **style)
    lr_ax.set(xlabel="epoch", ylabel="learning rate", title="learning rate per epoch")
    acc_ax.set(xlabel="epoch", ylabel="top-1 (%)", title="validation top-1")
    lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    if nets:  # one legend for both panels, each network named in words
        handles = lr_ax.get_lines()
        fig.legend(handles, [f"{h.get_label()}: {NETWORK_NAMES[h.get_label()]}" for h in handles],
                   loc="outside lower center", ncol=2, frameon=False)
    else:
        for ax in (lr_ax, acc_ax):
            ax.text(0.5, 0.5, "no epochs in the results yet", ha="center", va="center", transform=ax.transAxes)
    return fig


def plot_decomposition(parts: dict[str, Any] | None) -> Figure:
    """One panel per metric: each contrast's effect with its 95 % interval (filled: over seeds; open: over one
    seed's images, within one run, one a seed), the paper's dense -> pruned jump beside the contrasts that reproduce it (red
    square) and zero (grey line)."""
    contrasts = [c for c in (parts or {}).get("contrasts", [])]
    labels = [f"{a} − {b}" for a, b, _, _ in CONTRASTS]
    fig, axes = plt.subplots(2, 2, figsize=(COLUMN_IN, 5.6), sharey=True)
    for ax, (stem, method) in zip(axes.flat, METRICS):
        metric = f"{stem}_{method.lower()}"
        ax.axvline(0, color="0.6", lw=1)
        for y, contrast in enumerate(contrasts):
            row = contrast["metrics"].get(metric)
            if row is None:
                continue
            judged = _judged(row)
            for k, (_, r) in enumerate(judged):  # within one run, each seed a little apart
                at = y + 0.25 * (k - (len(judged) - 1) / 2)
                if r["low"] is not None:
                    ax.plot([r["low"], r["high"]], [at, at], "-", color="C0", lw=2)
                filled = row["unit"] == "seed"
                ax.plot(r["estimate"], at, "o", color="C0", mfc="C0" if filled else "white", ms=6)
            if row["paper_jump"] is not None:
                ax.plot(row["paper_jump"], y, "s", color="C3", ms=6)
        ax.set(title=METRIC_NAMES[metric], xlabel="effect (difference of the mean)")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # tick labels that never run together
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)
    return fig


VG_METRICS = ("gini_vg", "aopc_morf_vg")
#: the contrasts the chapter's answer speaks of, in its order, each with what it changes
ANSWERED = (("A1 - D", "their code path, round 1, against its dense network"),
            ("S - D", "the rewound network retrained at their constant rate, nothing pruned"),
            ("A1 - S", "their mask at initialisation, against that retraining"),
            ("M1 - A1", "holding that mask while retraining at the constant rate"),
            ("C1 - A1", "annealing the retraining on the cosine schedule instead, the mask not held"),
            ("L1 - C1", "holding the mask while retraining on the cosine schedule"),
            ("L1 - D", "a lottery ticket done right on their recipe (mask held, annealed), against the dense network"))
#: the contrasts without which the answer says what is missing
NEEDED = {"A1 - D": "their code path", "S - D": "the schedule alone"}


def _values(row: dict[str, Any]) -> str:
    """A contrast's effect on one metric with its interval and verdict: over seeds, or each seed's within one run."""
    def one(r: dict[str, Any]) -> str:
        ci = f" [{r['low']:+.3f}, {r['high']:+.3f}]" if r["low"] is not None else ""
        return f"{r['estimate']:+.3f}{ci}"
    jump = f", paper {row['paper_jump']:+.3f}" if row["paper_jump"] is not None else ""
    if row["unit"] == "seed":
        return f"{one(row)} over {_judged(row)[0][0]}{jump}: *{verdict_text(row)}*"
    across = {int(s) for s in row.get("across_parents", [])}
    runs = sorted((int(s), r) for s, r in (row.get("within_runs") or {}).items())
    return "; ".join(f"{one(r)} (seed {s}{f', {ACROSS}' if s in across else ''}, within one run{jump}): "
                     f"*{verdict_text({**r, 'unit': 'seed'})}*" for s, r in runs)


def answer(parts: dict[str, Any] | None) -> str:
    """The chapter's answer as a Markdown list, one short item per contrast of :data:`ANSWERED` measured on some
    seed: what it changes and its effect on the Vanilla-Gradient maps' Gini and AOPC MoRF (the paper's largest
    jumps), each with its interval, the paper's jump where there is one and the verdict (over seeds, or each seed's
    within one run); then what is not measured yet."""
    by = {c["contrast"]: c["metrics"] for c in (parts or {}).get("contrasts", [])}
    items = []
    for name, changes in ANSWERED:
        measured = [(METRIC_NAMES[m], by[name][m]) for m in VG_METRICS if by.get(name, {}).get(m)]
        if measured:
            items.append(f"- **{name}**, {changes}: " + "; ".join(f"{metric} {_values(row)}" for metric, row in measured)
                         + ".")
    missing = [f"{name} ({what})" for name, what in NEEDED.items() if not by.get(name)]
    if len(missing) == len(NEEDED):
        return ("None of the authors'-code networks is measured yet, so it cannot yet be said whether their "
                "training loop reproduces the paper's jump.")
    if missing:
        items.append(f"- Not measured yet: {' and '.join(missing)}.")
    return "\n".join(items)
