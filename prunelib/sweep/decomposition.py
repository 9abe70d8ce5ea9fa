"""What made the paper's numbers? The authors' training loop taken apart, one ingredient at a time.

Every network of a seed starts from the same initialisation as that seed's dense network ``D`` (the ``authors``
profile: their recipe). The authors' code path is ``A1``, ``A2`` (rounds 1 and 2 of ``authors_code``: masks not
held while retraining, a constant rate); ``S`` is the same loop with nothing pruned (``authors_unpruned``: the
rewind and the constant rate alone); round 1 with the mask held at a constant rate is ``M1`` (``authors_masked``),
with the mask not held and the cosine schedule ``C1`` (``authors_annealed``), with both ``L1`` (``authors_lottery``,
a lottery ticket done right: ``L1 - D`` is the paper's claim on the authors' own recipe). Each contrast is a paired
effect per seed over the images of the fixed set both networks classify correctly, judged across seeds by a 95 %
t-interval (:mod:`prunelib.sweep.seed_rule`; with fewer than 3 seeds, the per-image interval of each seed, "within
one run"), beside the paper's dense -> pruned jump.

A contrast's verdict on a metric is rule 4 of :mod:`prunelib.sweep.seed_rule` with the claimed direction "up" (the
paper's jumps are rises), its p-values Holm-corrected over the metrics of the contrast: *holds* (a rise),
*opposite* (a fall), *excluded* (the paper's jump lies outside the interval) or *inconclusive*; a verdict on one
seed's images is *within one run* and says so (:func:`verdict_text`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .seed_rule import MIN_SEEDS, holm, interval, level_verdict, measured, paired_values, paper_jumps

#: the file the sweep writes the decomposition to, beside summary.csv
DECOMPOSITION = "decomposition.json"
#: the networks: name -> (regime, round); D is the dense network of any of a seed's authors_* jobs
NETWORKS = {"D": (None, None), "A1": ("authors_code", 1), "A2": ("authors_code", 2), "S": ("authors_unpruned", 1),
            "M1": ("authors_masked", 1), "C1": ("authors_annealed", 1), "L1": ("authors_lottery", 1)}
#: (minuend, subtrahend, what the contrast isolates, the paper's level whose jump it is set beside)
CONTRASTS = (
    ("A1", "D", "their code path, round 1 (does it reproduce the paper's jump?)", 20),
    ("A2", "D", "their code path, round 2", 30),
    ("S", "D", "retraining at a constant rate alone", 20),
    ("L1", "D", "a lottery ticket done right: round 1, mask held, annealed", 20),
    ("A1", "S", "the mask at initialisation", 20),
    ("M1", "A1", "holding the mask (constant rate)", None),
    ("L1", "C1", "holding the mask (annealed)", None),
    ("C1", "A1", "annealing the retraining", None),
)
METRICS = (("gini", "VG"), ("gini", "IG"), ("aopc_morf", "VG"), ("aopc_morf", "IG"))


def networks_by_seed(runs: list[dict[str, Any]]) -> dict[int, dict[str, dict[str, Any]]]:
    """``{seed: {name: network}}`` of the authors_* jobs' result files (networks near chance left out); ``D`` is the
    dense network of the seed's first job (the networks table shows it)."""
    return {seed: {name: net for name, (net, _) in nets.items()} for seed, nets in _with_parents(runs).items()}


def _with_parents(runs: list[dict[str, Any]]) -> dict[int, dict[str, tuple[dict[str, Any], dict[str, Any] | None]]]:
    """``{seed: {name: (network, the dense network of its own job)}}``. A contrast against ``D`` uses the dense
    network its minuend was measured beside: the one it was pruned from, even where a seed's jobs were measured
    with dense networks retrained on different machines."""
    out: dict[int, dict[str, tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    for run in runs:
        if not run["regime"].startswith("authors_"):
            continue
        mine = out.setdefault(run["seed"], {})
        dense = next((n for n in run["networks"] if n["network"] == "dense"), None)
        for net in run["networks"]:
            if net.get("near_chance"):
                continue
            if net["network"] == "dense":
                mine.setdefault("D", (net, net))
            for name, (regime, rnd) in NETWORKS.items():
                if regime == run["regime"] and net.get("round") == rnd:
                    mine[name] = (net, None if dense is None or dense.get("near_chance") else dense)
    return out


def decomposition(runs: list[dict[str, Any]], reference: dict[str, Any]) -> dict[str, Any]:
    """Every contrast of :data:`CONTRASTS` for every metric of :data:`METRICS`: ``{"contrasts": [{"contrast",
    "isolates", "metrics": {metric: {"seeds": {seed: effect}, "n_images": {seed: n}, "estimate", "low", "high",
    "unit", "paper_jump", "p", "p_holm", "verdict", "within_runs"}}}], "networks": {seed: {name: {"top1", "level",
    "mask_sparsity", "n_correct", "history"}}}}``. Under 3 seeds (``unit`` "image") ``within_runs`` holds each
    seed's own interval over its images and verdict (Holm over the contrast's metrics of that seed), and the row
    repeats the first seed's; over seeds it is empty."""
    with_parents = _with_parents(runs)
    by_seed = networks_by_seed(runs)
    jumps = paper_jumps(reference)
    contrasts = []
    for a, b, isolates, paper_level in CONTRASTS:
        pairs = {s: (nets[a][0], nets[a][1] if b == "D" else nets[b][0]) for s, nets in sorted(with_parents.items())
                 if a in nets and b in nets}
        pairs = {s: pair for s, pair in pairs.items() if pair[1] is not None}
        rows = {}
        for stem, method in METRICS:
            values = {s: paired_values(x, y, stem, method) for s, (x, y) in pairs.items()
                      if measured(x, stem, method) and measured(y, stem, method)}
            values = {s: v for s, v in values.items() if v}
            if not values:
                continue
            effects = {s: float(np.mean(v)) for s, v in values.items()}
            jump = jumps.get((stem, method, paper_level)) if paper_level else None
            if len(effects) >= MIN_SEEDS:
                ci, unit, runs_ = interval(list(effects.values())), "seed", {}
            else:  # within one run: each seed's interval over its images; the row is the first seed's
                runs_ = {s: {**_estimate(interval(v)), "n_images": len(v), "paper_jump": jump}
                         for s, v in values.items()}
                ci, unit = runs_[min(runs_)], "image"
            rows[f"{stem}_{method.lower()}"] = {
                "seeds": effects, "n_images": {s: len(v) for s, v in values.items()}, "unit": unit,
                **_estimate(ci), "paper_jump": jump, "within_runs": runs_}
        for row, p in zip(rows.values(), holm([r["p"] for r in rows.values()])):
            row["p_holm"] = p
            row["verdict"] = level_verdict(row, +1, row["paper_jump"])
        for seed in sorted({s for r in rows.values() for s in r["within_runs"]}):  # each run's Holm over metrics
            mine = [r["within_runs"][seed] for r in rows.values() if seed in r["within_runs"]]
            for row, p in zip(mine, holm([r["p"] for r in mine])):
                row["p_holm"] = p
                row["verdict"] = level_verdict(row, +1, row["paper_jump"])
        contrasts.append({"contrast": f"{a} - {b}", "isolates": isolates, "metrics": rows})
    networks = {s: {name: {"top1": n["top1"], "level": n["level"], "mask_sparsity": n.get("mask_sparsity"),
                           "n_correct": n.get("n_correct"), "history": n.get("history", [])}
                    for name, n in nets.items()} for s, nets in by_seed.items()}
    return {"contrasts": contrasts, "networks": networks}


def _estimate(ci: dict[str, Any]) -> dict[str, Any]:
    return {k: ci[k] for k in ("estimate", "low", "high", "p")}


#: how a contrast's verdict reads (the claimed direction of every contrast is a rise)
VERDICT_TEXT = {"holds": "rises", "opposite": "falls", "excluded": "paper's jump excluded",
                "inconclusive": "inconclusive"}


def verdict_text(row: dict[str, Any]) -> str:
    """A contrast's verdict on one metric in words; one seed's verdict is said to be within one run. An interval
    that excludes the paper's jump by lying beyond it, in its direction, says so: the rule's *excluded* is then a
    larger effect than the paper's, not none."""
    text = VERDICT_TEXT[row["verdict"]]
    jump = row.get("paper_jump")
    if row["verdict"] == "excluded" and jump is not None and row["low"] > jump > 0:
        text += ": the effect is larger"
    return f"{text} (within one run)" if row["unit"] == "image" else text
