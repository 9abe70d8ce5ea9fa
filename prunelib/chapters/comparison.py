"""Section 6: the paper's numbers beside ours, and a verdict on each of the paper's claims within one run.

A verdict is the judging rule (:mod:`prunelib.sweep.seed_rule`) with the image as the unit, as that rule judges a
single seed (its rule 7): each pruned level against the dense network on the **same images** (the per-image
difference over the images both classify correctly, its mean with a class-clustered standard error), Holm over the
levels of a claim, then the rule's verdict and bound. These speak of one training run and say so.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import paths
from ..checkpoint import save_json
from ..reference import load_reference
from ..runs import first_network
from ..sweep.seed_rule import (NOT_JUDGED, WITHIN, claim_verdict, clustered_moments, describe, group_of, image_classes,
                               judge_levels, paired, paper_jumps)
from ..measure.faithfulness import aopc_of, gini_of, level_key
from .verdict_text import verdict_texts

#: the metric stem of the judging rule for each quantity compared here (AOPC: MoRF)
STEMS = {"gini": "gini", "aopc": "aopc_morf"}


def _network(m: dict, method: str, level: str) -> dict:
    """One level of the stage's measurement as the rule reads a network: its correctly classified images."""
    return {"images": m["images"][level], "methods": {method: m["methods"][method][level]}}


def fixed_set_classes(profile: str) -> dict[int, int] | None:
    """``{validation index: class}`` of the profile's fixed image set, from any of its jobs' result files (None
    where none measured the fixed set): the clusters of the within-run standard errors."""
    for file in sorted((paths.results_dir(profile) / "runs").glob("*-seed*.json")):
        run = json.loads(file.read_text())
        dense = first_network(run.get("networks", []), "dense")
        classes = image_classes(run, dense) if dense else None
        if classes is not None:
            return dict(zip(dense["images"], classes))
    return None


def paired_moments(m: dict, method: str, level: str, quantity: str, classes: dict[int, int] | None
                   ) -> tuple[int, tuple[float, float, float] | None]:
    """The number of images both ``level`` and the dense network classify correctly, and the (estimate,
    class-clustered se, df) of their per-image ``quantity(level) - quantity(dense)`` (None under 2 images)."""
    values, cls = paired(_network(m, method, level), _network(m, method, "0.0"), STEMS[quantity], method,
                         classes=classes)
    return len(values), (clustered_moments(values, cls) if len(values) >= 2 else None)


def paired_difference(m: dict, method: str, level: str, quantity: str, classes: dict[int, int] | None) -> dict:
    """Mean over shared images of ``quantity(level) - quantity(dense)`` with its 95 % t-interval from the
    class-clustered standard error and its p-value (None where the two networks share under 2 images)."""
    n, moments = paired_moments(m, method, level, quantity, classes)
    if moments is None:
        return {"level": float(level), "n": n, "estimate": None, "low": None, "high": None, "p": None}
    (row,) = judge_levels([moments], +1, [None])
    return {"level": float(level), "n": n, "estimate": row["estimate"], "low": row["low"], "high": row["high"],
            "p": row["p"], "clustered": classes is not None}


def judge(m: dict, method: str, quantity: str, group: list[str], sign: int, jumps: dict,
          classes: dict[int, int] | None = None) -> dict:
    """The judging rule within one run for the levels ``group`` of one claim: ``{"verdict" (the rule's word),
    "text" (with "within one run" and its bound), "levels":
    [rows]}``, each row a level's interval, Holm-adjusted p-value, bound, the paper's jump there and its verdict."""
    measured = [(s, paired_moments(m, method, s, quantity, classes)[1]) for s in group]
    measured = [(s, mo) for s, mo in measured if mo is not None]
    paper = [jumps.get((STEMS[quantity], method, round(100 * float(s)))) for s, _ in measured]
    rows = judge_levels([mo for _, mo in measured], sign, paper)
    for row, (s, _) in zip(rows, measured):
        row["level"] = float(s)
    verdict = claim_verdict([{**r, "level": 100 * r["level"]} for r in rows], sign) if rows else "no level"
    return {"verdict": verdict, "text": describe(f"{verdict} {WITHIN}", rows, sign), "levels": rows,
            "clustered": classes is not None}


def paper_gaps(top1: dict[str, float], m: dict, reference: dict) -> dict:
    """Ours minus the paper at the levels both studies have (0-70 %): top-1 (points), Gini and AOPC (MoRF, authors').

    Returns ``{"levels": [...], "top1_dense": (ours, paper), quantity: {"dense": d, "mean": mean d, "range": (min, max)}}``.
    """
    methods = [method for method in m["methods"] if method in reference["gini"]]  # the paper's: VG and IG
    common = [s for s in reference["sparsity"] if level_key(s) in m["methods"][methods[0]]]
    idx = {s: reference["sparsity"].index(s) for s in common}
    out = {"levels": common, "top1_dense": (top1["0.0"], reference["top1"][0])}
    picks = {"gini": lambda e: gini_of(e)["estimate"], "aopc": lambda e: aopc_of(e)["estimate"]}
    for key, pick in picks.items():
        for method in methods:
            ours = {s: pick(m["methods"][method][level_key(s)]) for s in common}
            d = [v - reference[key][method][idx[s]] for s, v in ours.items() if v is not None]  # None: no image
            dense, dense_paper = ours[common[0]], reference[key][method][idx[common[0]]]
            out[f"{key}_{method}"] = {"dense": None if dense is None else dense - dense_paper,
                                      "mean": sum(d) / len(d) if d else None,
                                      "range": (min(d), max(d)) if d else (None, None)}
    out["top1"] = {"dense": 100 * (top1["0.0"] - reference["top1"][0]),
                   "mean": 100 * sum(top1[level_key(s)] - reference["top1"][idx[s]] for s in common) / len(common)}
    return out


def run_comparison_stage(*, profile: str, out_dir: Path) -> dict:
    """Compare with the paper and decide each claim (:func:`judge`); writes ``out_dir/comparison.json``."""
    res = paths.results_dir(profile)
    acc = json.loads((res / "training" / "accuracy.json").read_text())
    m = json.loads((res / "faithfulness" / "metrics.json").read_text())
    concepts = json.loads((res / "concepts" / "coherence.json").read_text())
    levels = [level_key(s) for s in m["levels"]]
    top1 = {level_key(r["sparsity_target"]): r["val_top1"] for r in acc["levels"]}
    # a network near chance has nothing left to explain: its maps say nothing about the claims (the job's flag,
    # as coherence.json carries it: :func:`prunelib.chapters.study.at_chance`)
    at_chance = [level_key(s) for s in concepts["at_chance"] if level_key(s) in levels]
    light = [s for s in levels if group_of(100 * float(s)) == "light" and s not in at_chance]
    aggressive = [s for s in levels if group_of(100 * float(s)) == "aggressive" and s not in at_chance]
    classes = fixed_set_classes(profile)
    diffs = {q: {meth: {s: paired_difference(m, meth, s, q, classes) for s in levels if s != "0.0"}
                 for meth in m["methods"]} for q in STEMS}
    reference = load_reference()
    jumps = paper_jumps(reference)
    gain = {c: {s: concepts["metrics"][c][s]["coherence"]["gain"] for s in levels} for c in concepts["classes"]}
    similarity = {c: {s: concepts["metrics"][c][s]["concept_similarity"] for s in levels} for c in concepts["classes"]}

    judged = {key: {meth: judge(m, meth, quantity, group, sign, jumps, classes) for meth in m["methods"]}
              for key, quantity, group, sign in (("gini_light", "gini", light, +1), ("aopc_light", "aopc", light, +1),
                                                 ("gini_aggressive", "gini", aggressive, -1))}
    verdicts = {
        **{claim: {meth: j["verdict"] for meth, j in by.items()} for claim, by in judged.items()},
        "accuracy_holds": {s: abs(top1[s] - top1["0.0"]) <= 0.02 for s in levels if s != "0.0"},
        # one run has no seed-level interval: the rule judges concept coherence over seeds (the table of claims)
        "coherence_aggressive": {c: NOT_JUDGED for c in gain} if aggressive else {},
    }
    out = {"levels": levels, "light": light, "aggressive": aggressive, "at_chance": at_chance, "top1": top1,
           "differences": diffs, "coherence_gain": gain, "concept_similarity": similarity, "verdicts": verdicts,
           "judged": judged, "paper_gaps": paper_gaps(top1, m, reference), "n_images": m["n_images"], "n_shared": m["n_shared"]}
    out["texts"] = verdict_texts(out)
    save_json(out, Path(out_dir) / "comparison.json")
    return out
