"""Section 6: the paper's numbers beside ours, and a verdict on each of the paper's claims.

A verdict compares a pruned level with the dense network on the **same images** (paired bootstrap over images of
the per-image difference): a claim *holds* when the 95 % interval of the difference lies on the claimed side of
0, is *opposite* when it lies on the other side, and is *inconclusive* when it contains 0 (the vocabulary of the
seed-level rule, :mod:`prunelib.sweep.seed_rule`; these verdicts speak of one training run).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .. import metrics, paths
from ..checkpoint import save_json
from ..reference import load_reference
from .common import near_chance_levels
from .faithfulness import aopc_of, gini_of, level_key, per_image_aopc
from .verdict_text import verdict_texts

LIGHT = (0.1, 0.2, 0.3, 0.5)   # "light-to-moderate" in the paper
AGGRESSIVE = (0.7, 0.8, 0.9, 0.95, 0.98)


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


def paired_difference(m: dict, method: str, level: str, quantity: str, n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean over shared images of ``quantity(level) - quantity(dense)`` with a bootstrap 95 % CI (None where the
    two networks share no correctly classified image)."""
    a, b = _per_image(m, method, level, quantity), _per_image(m, method, "0.0", quantity)
    shared = sorted(set(a) & set(b))
    if not shared:  # a network that classifies none of the dense network's correct images: no difference to take
        return {"level": float(level), "n": 0, "estimate": None, "low": None, "high": None}
    diff = torch.tensor([a[i] - b[i] for i in shared], dtype=torch.float64)
    ci = metrics.bootstrap_ci(diff, n_boot=n_boot, seed=seed)
    return {"level": float(level), "n": len(shared), "estimate": float(ci.estimate), "low": float(ci.low),
            "high": float(ci.high)}


def verdict(diffs: list[dict], sign: int) -> str:
    """``holds`` if some difference's CI is strictly on the side ``sign`` and none on the other side, ``opposite`` in
    the mirrored case, ``mixed`` if both occur, else ``inconclusive``."""
    diffs = [d for d in diffs if d["estimate"] is not None]
    right = any(d["low"] > 0 if sign > 0 else d["high"] < 0 for d in diffs)
    wrong = any(d["high"] < 0 if sign > 0 else d["low"] > 0 for d in diffs)
    if right and not wrong:
        return "holds"
    if wrong and not right:
        return "opposite"
    return "inconclusive" if not (right and wrong) else "mixed"


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


def run_comparison_stage(*, profile: str, out_dir: Path, n_bootstrap: int = 1000, seed: int = 0) -> dict:
    """Compare with the paper and decide each claim; writes ``out_dir/comparison.json``."""
    res = paths.results_dir(profile)
    acc = json.loads((res / "training" / "accuracy.json").read_text())
    m = json.loads((res / "faithfulness" / "metrics.json").read_text())
    concepts = json.loads((res / "concepts" / "coherence.json").read_text())
    levels = [level_key(s) for s in m["levels"]]
    top1 = {level_key(r["sparsity_target"]): r["val_top1"] for r in acc["levels"]}
    # a network near chance has nothing left to explain: its maps say nothing about the claims
    at_chance = [level_key(s) for s in near_chance_levels(profile) if level_key(s) in levels]
    light = [s for s in levels if float(s) in LIGHT and s not in at_chance]
    aggressive = [s for s in levels if float(s) in AGGRESSIVE and s not in at_chance]
    diffs = {q: {meth: {s: paired_difference(m, meth, s, q, n_bootstrap, seed) for s in levels if s != "0.0"}
                 for meth in m["methods"]} for q in ("gini", "aopc")}
    gain = {c: {s: concepts["metrics"][c][s]["coherence"]["gain"] for s in levels} for c in concepts["classes"]}
    similarity = {c: {s: concepts["metrics"][c][s]["concept_similarity"] for s in levels} for c in concepts["classes"]}

    def by(q: str, group: list[str], sign: int) -> dict:
        return {meth: verdict([diffs[q][meth][s] for s in group], sign) for meth in m["methods"]}

    verdicts = {
        "gini_light": by("gini", light, +1),
        "aopc_light": by("aopc", light, +1),
        "gini_aggressive": by("gini", aggressive, -1),
        "accuracy_holds": {s: abs(top1[s] - top1["0.0"]) <= 0.02 for s in levels if s != "0.0"},
        # descriptive only (one value per level, no interval): is the lowest gain among aggressive levels below
        # the lowest among the dense and light levels?
        "coherence_aggressive": {c: ("lower" if min(g[s] for s in aggressive) < min(g[s] for s in ["0.0", *light])
                                     else "not lower") for c, g in gain.items()} if aggressive else {},
    }
    out = {"levels": levels, "light": light, "aggressive": aggressive, "at_chance": at_chance, "top1": top1,
           "differences": diffs, "coherence_gain": gain, "concept_similarity": similarity, "verdicts": verdicts,
           "paper_gaps": paper_gaps(top1, m, load_reference()), "n_images": m["n_images"], "n_shared": m["n_shared"]}
    out["texts"] = verdict_texts(out)
    save_json(out, Path(out_dir) / "comparison.json")
    return out
