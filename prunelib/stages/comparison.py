"""Section 6: the paper's numbers beside ours, and a verdict on each of the paper's claims within one run.

A verdict is the seed-level rule (:mod:`prunelib.sweep.seed_rule`) with the image as the unit, as that rule judges a
single seed (its rule 6): each pruned level against the dense network on the **same images** (the per-image
difference over the images both classify correctly, its mean with a 95 % t-interval and a paired t-test), Holm
over the levels of a claim, then *holds*, *opposite*, *mixed*, *paper's effect excluded* or *inconclusive* (rules
4-5). Chapter 7 applies the same rule to the same networks, so the two chapters give one verdict; these speak of
one training run.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import paths
from ..checkpoint import save_json
from ..reference import load_reference
from ..sweep.seed_rule import claim_verdict, group_of, interval, judge_levels, paper_jumps
from .common import near_chance_levels
from .faithfulness import aopc_of, gini_of, level_key, per_image_aopc
from .verdict_text import verdict_texts

#: the metric stem of the seed-level rule for each quantity compared here (AOPC: MoRF)
STEMS = {"gini": "gini", "aopc": "aopc_morf"}


def _per_image(m: dict, method: str, level: str, quantity: str) -> dict[int, float]:
    e = m["methods"][method][level]
    images = m["images"][level]
    if not images:  # the network classifies none of the images correctly
        return {}
    if quantity == "gini":
        values = e["gini"]
    else:
        values = per_image_aopc(e, "morf").tolist()
    return dict(zip(images, values))


def paired_values(m: dict, method: str, level: str, quantity: str) -> list[float]:
    """Per-image ``quantity(level) - quantity(dense)`` over the images both classify correctly."""
    a, b = _per_image(m, method, level, quantity), _per_image(m, method, "0.0", quantity)
    return [a[i] - b[i] for i in sorted(set(a) & set(b))]


def paired_difference(m: dict, method: str, level: str, quantity: str) -> dict:
    """Mean over shared images of ``quantity(level) - quantity(dense)`` with its 95 % t-interval and paired t-test
    p-value (:func:`prunelib.sweep.seed_rule.interval`; None where the two networks share no correctly classified
    image)."""
    row = interval(paired_values(m, method, level, quantity))
    return {"level": float(level), "n": row["n"], "estimate": row["estimate"], "low": row["low"],
            "high": row["high"], "p": row["p"]}


def judge(m: dict, method: str, quantity: str, group: list[str], sign: int, jumps: dict) -> dict:
    """The seed-level rule within one run for the levels ``group`` of one claim: ``{"verdict", "levels": [rows]}``,
    each row a level's interval, Holm-adjusted p-value, the paper's jump there and the level's verdict."""
    paper = [jumps.get((STEMS[quantity], method, round(100 * float(s)))) for s in group]
    rows = judge_levels([paired_values(m, method, s, quantity) for s in group], sign, paper)
    for row, s in zip(rows, group):
        row["level"] = float(s)
    verdict = claim_verdict([r["verdict"] for r in rows], [j is not None for j in paper]) if rows else "no level"
    return {"verdict": verdict, "levels": rows}


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
    # a network near chance has nothing left to explain: its maps say nothing about the claims
    at_chance = [level_key(s) for s in near_chance_levels(profile) if level_key(s) in levels]
    light = [s for s in levels if group_of(100 * float(s)) == "light" and s not in at_chance]
    aggressive = [s for s in levels if group_of(100 * float(s)) == "aggressive" and s not in at_chance]
    diffs = {q: {meth: {s: paired_difference(m, meth, s, q) for s in levels if s != "0.0"}
                 for meth in m["methods"]} for q in STEMS}
    reference = load_reference()
    jumps = paper_jumps(reference)
    gain = {c: {s: concepts["metrics"][c][s]["coherence"]["gain"] for s in levels} for c in concepts["classes"]}
    similarity = {c: {s: concepts["metrics"][c][s]["concept_similarity"] for s in levels} for c in concepts["classes"]}

    judged = {"gini_light": {meth: judge(m, meth, "gini", light, +1, jumps) for meth in m["methods"]},
              "aopc_light": {meth: judge(m, meth, "aopc", light, +1, jumps) for meth in m["methods"]},
              "gini_aggressive": {meth: judge(m, meth, "gini", aggressive, -1, jumps) for meth in m["methods"]}}
    verdicts = {
        **{claim: {meth: j["verdict"] for meth, j in by.items()} for claim, by in judged.items()},
        "accuracy_holds": {s: abs(top1[s] - top1["0.0"]) <= 0.02 for s in levels if s != "0.0"},
        # descriptive only (one value per level, no interval): is the lowest gain among aggressive levels below
        # the lowest among the dense and light levels?
        "coherence_aggressive": {c: ("lower" if min(g[s] for s in aggressive) < min(g[s] for s in ["0.0", *light])
                                     else "not lower") for c, g in gain.items()} if aggressive else {},
    }
    out = {"levels": levels, "light": light, "aggressive": aggressive, "at_chance": at_chance, "top1": top1,
           "differences": diffs, "coherence_gain": gain, "concept_similarity": similarity, "verdicts": verdicts,
           "judged": judged, "paper_gaps": paper_gaps(top1, m, reference), "n_images": m["n_images"], "n_shared": m["n_shared"]}
    out["texts"] = verdict_texts(out)
    save_json(out, Path(out_dir) / "comparison.json")
    return out
