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

Two networks of a contrast pruned from different realizations of a seed's ``D`` (its dense network trained again
on another kind of machine: the same inputs, another network; :func:`prunelib.sweep.records.same_network`) are
compared through their parents: per image, over the images all four classify correctly, ``(X - D_X) - (Y -
D_Y)``. Each network is paired with the dense network it was pruned from, and both parents are draws of the seed's
dense network, so the contrast's expectation is the same; its variance grows by the parents' disagreement, which
the seeds' spread carries into the interval. The result names the seeds so compared (``across_parents``).

A contrast's verdicts follow the judging rule (:mod:`prunelib.sweep.seed_rule`) with the claimed direction "up"
(the paper's jumps are rises): its family is the contrast's metrics (Holm over them), each verdict with its bound.
A contrast against ``D`` of a network the claims table judges (``A1``, ``A2``, ``L1``: a level of the paper's
claim under that regime) is that claim's level and takes its row: one effect, one verdict, on every page. A verdict
on one seed's images is *within one run* (class-clustered standard errors) and says so (:func:`verdict_text`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..runs import first_network
from .records import same_network
from .seed_rule import (CLAIMS, MIN_SEEDS, WITHIN, clustered_moments, describe, image_classes, judge_levels, measured,
                        paired, paper_jumps, seed_moments, seed_verdicts)

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
        dense = first_network(run["networks"], "dense")
        for net in run["networks"]:
            if net.get("near_chance"):
                continue
            if net["network"] == "dense":
                mine.setdefault("D", (net, net))
            for name, (regime, rnd) in NETWORKS.items():
                if regime == run["regime"] and net.get("round") == rnd:
                    mine[name] = (net, None if dense is None or dense.get("near_chance") else dense)
    return out


def _pair(minuend: tuple[dict[str, Any], dict[str, Any] | None], subtrahend: tuple[dict[str, Any], dict[str, Any] | None],
          against_dense: bool) -> tuple[dict[str, Any], dict[str, Any] | None, tuple[dict[str, Any], ...]]:
    """The two networks of one seed's contrast, and the dense networks they were pruned from where these differ
    (another realization of ``D``): then the contrast is a difference of differences (the module's docstring)."""
    (x, px), (y, py) = minuend, subtrahend
    if against_dense:
        return x, px, ()
    return x, y, (() if px is None or py is None or same_network(px, py) else (px, py))


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
    claimed = _claim_rows(runs, reference)
    classes = {run["seed"]: image_classes(run, run["networks"][0]) for run in runs}
    contrasts = []
    for a, b, isolates, paper_level in CONTRASTS:
        pairs = {s: _pair(nets[a], nets[b], b == "D") for s, nets in sorted(with_parents.items())
                 if a in nets and b in nets}
        pairs = {s: pair for s, pair in pairs.items() if pair[1] is not None}
        values = {}
        for stem, method in METRICS:
            mine = {}
            for s, (x, y, parents) in pairs.items():
                if all(measured(n, stem, method) for n in (x, y, *parents)):
                    cls = classes.get(s)
                    v, c = paired(x, y, stem, method, False, None if cls is None else dict(zip(x["images"], cls)),
                                  parents=parents)
                    if v:
                        mine[s] = (v, c)
            if mine:
                values[f"{stem}_{method.lower()}"] = (stem, method, mine)
        rows = {}
        for key, (stem, method, mine) in values.items():
            effects = {s: float(np.mean(v)) for s, (v, _) in mine.items()}
            jump = jumps.get((stem, method, paper_level)) if paper_level else None
            rows[key] = {"seeds": effects, "n_images": {s: len(v) for s, (v, _) in mine.items()},
                         "unit": "seed" if len(effects) >= MIN_SEEDS else "image", "paper_jump": jump,
                         "within_runs": {}, "family": f"the metrics of {a} - {b}",
                         "across_parents": [s for s in effects if pairs[s][2]]}
        over_seeds = [k for k, r in rows.items() if r["unit"] == "seed"]
        judged = judge_levels([seed_moments(np.array(list(rows[k]["seeds"].values()))) for k in over_seeds], +1,
                              [rows[k]["paper_jump"] for k in over_seeds])
        for k, row in zip(over_seeds, judged):
            rows[k].update(row)
        for seed in sorted({s for k, r in rows.items() if r["unit"] == "image" for s in values[k][2]}):
            mine = [k for k, r in rows.items() if r["unit"] == "image" and seed in values[k][2]]
            judged = judge_levels([clustered_moments(*values[k][2][seed]) for k in mine], +1,
                                  [rows[k]["paper_jump"] for k in mine])
            for k, row in zip(mine, judged):
                rows[k]["within_runs"][seed] = {**row, "n_images": len(values[k][2][seed][0])}
        for k, row in rows.items():
            if row["unit"] == "image":  # the row repeats the first seed's verdict within its run
                row.update({f: v for f, v in row["within_runs"][min(row["within_runs"])].items() if f != "n_images"})
            claim = claimed.get((a, b, values[k][0], values[k][1]))
            if claim is not None and claim["unit"] == row["unit"] == "seed":
                row.update({f: claim[f] for f in ("estimate", "se", "df", "p", "p_holm", "low", "high", "low90",
                                                   "high90", "bound", "share", "verdict", "paper_jump")},
                           family=claim["family"])
        contrasts.append({"contrast": f"{a} - {b}", "isolates": isolates, "metrics": rows})
    networks = {s: {name: {"top1": n["top1"], "level": n["level"], "mask_sparsity": n.get("mask_sparsity"),
                           "n_correct": n.get("n_correct"), "history": n.get("history", [])}
                    for name, n in nets.items()} for s, nets in by_seed.items()}
    return {"contrasts": contrasts, "networks": networks}


def _claim_rows(runs: list[dict[str, Any]], reference: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    """``{(minuend, "D", stem, method): row}``: the claims table's level row of each contrast against ``D`` that is
    a level of one of the paper's claims under the minuend's regime (the claim's family: its levels)."""
    verdicts = seed_verdicts(runs, reference)
    out = {}
    for name, (regime, rnd) in NETWORKS.items():
        if regime is None:
            continue
        for key, stem, _, _, sentence in CLAIMS:
            for method, rows in verdicts["levels"].get(regime, {}).get("dense", {}).get(key, {}).items():
                for row in rows:
                    target = _round_target(runs, regime, rnd)
                    if target is not None and abs(row["level"] - 100 * target) < 1e-6:
                        out[(name, "D", stem, method)] = {**row, "family": f"the levels of the claim: {sentence}"}
    return out


def _round_target(runs: list[dict[str, Any]], regime: str, rnd: int) -> float | None:
    """The target sparsity of round ``rnd`` of ``regime``'s jobs."""
    return next((n["target"] for r in runs if r["regime"] == regime for n in r["networks"]
                 if n.get("round") == rnd and n["network"] == "pruned"), None)


def verdict_text(row: dict[str, Any]) -> str:
    """A contrast's verdict on one metric in the rule's words, with its bound; one seed's verdict is said to be
    within one run."""
    text = describe(row["verdict"], [row], +1)
    return f"{text} ({WITHIN})" if row["unit"] == "image" else text
