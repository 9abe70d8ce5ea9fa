"""The decision rules behind the book's verdicts, on constructed inputs with known answers."""
from __future__ import annotations

import pytest
import torch

from prunelib.chapters.comparison import judge, paired_difference


def _metrics(gini_dense: list[float], gini_pruned: list[float], images_pruned: list[int]) -> dict:
    road = {"morf": {"correct": [[1] * 10] * len(gini_dense)}}
    return {"images": {"0.0": list(range(len(gini_dense))), "0.5": images_pruned},
            "methods": {"VG": {"0.0": {"gini": gini_dense, "road": road},
                               "0.5": {"gini": gini_pruned, "road": {"morf": {"correct": [[1] * 10] * len(gini_pruned)}}}}}}


def test_paired_difference_uses_only_shared_images() -> None:
    # images 0..3 at both levels, with +0.1 each; image 9 only at the pruned level (must be ignored)
    m = _metrics([0.2, 0.3, 0.4, 0.5], [0.3, 0.4, 0.5, 0.6, 0.99], [0, 1, 2, 3, 9])
    d = paired_difference(m, "VG", "0.5", "gini", None)
    assert d["n"] == 4
    assert d["estimate"] == pytest.approx(0.1)
    assert d["low"] == pytest.approx(0.1) and d["high"] == pytest.approx(0.1) and d["p"] < 1e-9  # constant


def _two_levels(shift_10: float, shift_50: float, n: int = 200) -> dict:
    """Gini of a dense network and of two levels on ``n`` shared images: each level is the dense value plus its
    shift and noise of sd 0.01 (seeded), so the known answer is the shift."""
    g = torch.Generator().manual_seed(0)
    dense = torch.rand(n, generator=g, dtype=torch.float64) * 0.5 + 0.2
    level = {s: (dense + shift + 0.01 * torch.randn(n, generator=g, dtype=torch.float64)).tolist()
             for s, shift in (("0.1", shift_10), ("0.5", shift_50))}
    correct = {"morf": {"correct": [[1] * 4] * n}}
    return {"images": {k: list(range(n)) for k in ("0.0", "0.1", "0.5")},
            "methods": {"VG": {"0.0": {"gini": dense.tolist(), "road": correct},
                               **{s: {"gini": v, "road": correct} for s, v in level.items()}}}}


@pytest.mark.parametrize("shifts, sign, jumps, expected", [
    ((0.02, 0.0), +1, {}, "holds"),                      # a clear rise at one level, nothing at the other
    ((-0.02, 0.0), +1, {}, "opposite"),
    ((0.02, -0.02), +1, {}, "inconclusive (holds at 10 %, opposite at 50 %)"),
    ((0.0, 0.0), +1, {10: 0.046, 50: 0.046}, "smaller than the paper's"),  # no effect, the paper's far beyond
    ((0.0, 0.0), +1, {10: 0.0005}, "inconclusive"),       # no effect, the paper's jump inside the interval
    ((-0.02, -0.02), -1, {}, "holds"),                    # the aggressive claim: a fall
])
def test_a_claim_within_one_run_is_the_seed_level_rule_on_images(shifts, sign, jumps, expected) -> None:
    """Chapter 6 judges with the judging rule's within-run branch (t-intervals, Holm over the claim's levels, the
    bound against the paper's jump): the verdicts chapter 7 gives the same networks."""
    m = _two_levels(*shifts)
    out = judge(m, "VG", "gini", ["0.1", "0.5"], sign, {("gini", "VG", k): v for k, v in jumps.items()})
    assert out["verdict"] == expected
    assert [r["level"] for r in out["levels"]] == [0.1, 0.5]
    assert all(r["p_holm"] >= r["p"] for r in out["levels"])  # Holm over the two levels
    assert out["text"].startswith(expected) and f"{expected} within one run" in out["text"]


def test_a_verdict_within_one_run_clusters_on_class() -> None:
    """Images of a class share a shift: the class-clustered interval is wider than the per-image one."""
    m = _two_levels(0.0, 0.0)
    shift = [0.01 * ((i // 20) % 3 - 1) for i in range(200)]
    m["methods"]["VG"]["0.1"]["gini"] = [g + s for g, s in zip(m["methods"]["VG"]["0.1"]["gini"], shift)]
    classes = {i: i // 20 for i in range(200)}
    plain, clustered = (paired_difference(m, "VG", "0.1", "gini", c) for c in (None, classes))
    assert clustered["estimate"] == pytest.approx(plain["estimate"])
    assert clustered["high"] - clustered["low"] > 2 * (plain["high"] - plain["low"]) and clustered["clustered"]


def test_paper_gaps_are_ours_minus_the_papers_at_shared_levels() -> None:
    from prunelib.chapters.comparison import paper_gaps
    from prunelib.chapters.verdict_text import evidence
    reference = {"sparsity": [0.0, 0.1, 0.7], "top1": [0.84, 0.83, 0.80],
                 "gini": {"VG": [0.40, 0.45, 0.50], "IG": [0.6, 0.6, 0.6]},
                 "aopc": {"VG": [0.5, 0.5, 0.5], "IG": [0.3, 0.3, 0.3]}}

    def entry(g: float, a: float) -> dict:
        return {"gini_mean": {"estimate": g}, "road": {"morf": {"aopc_authors": {"estimate": a}}}}
    # ours at 0 and 10 % only (no 70 %): Gini VG +0.1 and -0.05, AOPC VG -0.2 both
    m = {"methods": {"VG": {"0.0": entry(0.5, 0.3), "0.1": entry(0.4, 0.3), "0.9": entry(0.1, 0.1)},
                     "IG": {"0.0": entry(0.6, 0.3), "0.1": entry(0.6, 0.3), "0.9": entry(0.1, 0.1)}}}
    gaps = paper_gaps({"0.0": 0.77, "0.1": 0.76, "0.9": 0.4}, m, reference)
    assert gaps["levels"] == [0.0, 0.1]
    assert gaps["gini_VG"]["dense"] == pytest.approx(0.1)
    assert gaps["gini_VG"]["mean"] == pytest.approx(0.025)
    assert gaps["gini_VG"]["range"] == pytest.approx((-0.05, 0.1))
    assert gaps["aopc_VG"]["mean"] == pytest.approx(-0.2)
    assert gaps["top1"]["dense"] == pytest.approx(-7.0)
    assert gaps["top1"]["mean"] == pytest.approx(-7.0)
    text = evidence({"0.1": {"estimate": 0.0123, "low": 0.008, "high": 0.0161}}, ["0.1"])
    assert text == "10 %: +0.012 [+0.008, +0.016]"


def test_near_chance_threshold() -> None:
    from prunelib.measure.common import near_chance
    assert near_chance(0.107, 10) and not near_chance(0.421, 10) and not near_chance(0.2, 10)


def test_verdict_texts_carry_the_evidence_and_the_excluded_levels() -> None:
    from prunelib.chapters.verdict_text import verdict_texts
    d = {"estimate": -0.002, "low": -0.003, "high": -0.001}
    gap = {"mean": -0.08, "range": (-0.1, -0.05)}
    c = {"light": ["0.5"], "aggressive": ["0.9"], "at_chance": ["0.98"],
         "differences": {"gini": {"VG": {"0.5": d, "0.9": d}, "IG": {"0.5": d, "0.9": d}},
                         "aopc": {"VG": {"0.5": d}, "IG": {"0.5": d}}},
         "verdicts": {"gini_light": {"VG": "opposite", "IG": "opposite"},
                      "aopc_light": {"VG": "opposite", "IG": "opposite"},
                      "gini_aggressive": {"VG": "holds", "IG": "holds"},
                      "accuracy_holds": {"0.5": True, "0.9": False}, "coherence_aggressive": {"church": "not judged"}},
         "coherence_gain": {"church": {"0.0": 0.17, "0.5": 0.15, "0.9": 0.12}},
         "concept_similarity": {"church": {"0.0": 0.44, "0.9": 0.54}},
         "paper_gaps": {"top1_dense": (0.773, 0.8415), "top1": {"dense": -6.8}, "levels": [0.0, 0.1],
                        **{k: gap for k in ("gini_VG", "gini_IG", "aopc_VG", "aopc_IG")}}}
    t = verdict_texts(c)
    assert "VG *opposite* within one run (level − dense: 50 %: -0.002 [-0.003, -0.001])" in t["verdict_gini"]
    assert t["verdict_excluded"].endswith(": 98 %")
    assert t["verdict_accuracy"].endswith(": 50 %")
    assert "lowest at the dense and light levels (0 %, 50 %)" in t["verdict_concepts"]  # the rule, where it is shown
    assert "church 0.120 against 0.150" in t["verdict_concepts"] and "*Not judged* within one run" in t["verdict_concepts"] and "church 0.44 → 0.54" in t["verdict_concepts"]
    assert "dense top-1 77.3 % against the paper's 84.2 % (-6.8 points)" in t["verdict_gaps"]
    assert verdict_texts({**c, "aggressive": []})["verdict_concepts"].endswith("No aggressive level is above chance in this run.")


def test_stage_timings_add_the_training_compute_time(tmp_path) -> None:
    import json
    from prunelib.provenance import stage_timings
    (tmp_path / "manifest.json").write_text(json.dumps({"stages": {
        "training": {"seconds": 11.0, "finished": "t1"}, "comparison": {"seconds": 8.0, "finished": "t2"}}}))
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "provenance.json").write_text(json.dumps({"git_commit": "0123456789abcdef"}))
    acc = {"dense_history": [{"seconds": 100.0}, {"seconds": 120.0}],
           "levels": [{"finetune_seconds": None}, {"finetune_seconds": 30.0}, {"finetune_seconds": 31.0}]}
    rows = stage_timings(tmp_path, acc)
    assert [r["stage"] for r in rows][0] == "training" and len(rows) == 3  # no comparison row
    assert rows[0]["commit"] == "0123456789" and rows[0]["wall time (s)"] == 11.0
    assert rows[1]["wall time (s)"] == 220.0 and rows[2]["wall time (s)"] == 61.0


def test_concept_notes_say_why_sobol_importances_are_zero() -> None:
    from prunelib.models import resnet18
    from prunelib.measure.concepts import class_weights_left, notes

    model = resnet18(num_classes=10, seed=0)
    with torch.no_grad():
        model.fc.weight[4] = 0  # every weight of class 4's row pruned: its logit is the bias alone
        model.fc.weight[1, 3:] = 0
    assert class_weights_left(model, 4) == 0 and class_weights_left(model, 1) == 3

    def level(entropy, weights_left: int) -> dict:
        return {"importance_entropy": entropy, "class_weights_left": weights_left, "nmf_iterations": 300}
    summary = {"classes": ["church", "parachute"], "levels": [0.0, 0.98], "nmf_max_iter": 5000,
               "metrics": {"church": {"n_images": 6, "n_correct": 6, "0.0": level(0.4, 512), "0.98": level(None, 0)},
                           "parachute": {"n_images": 6, "n_correct": 2, "0.0": level(0.5, 512),
                                         "0.98": level(None, 3)}}}
    said = notes(summary)
    assert len(said) == 3
    assert said[0].startswith("church at 98 %") and "keeps no weight for the class" in said[0]
    assert said[1].startswith("parachute: the dense network classifies only 2 images of the class correctly")
    assert said[2].startswith("parachute at 98 %") and "although 3 weights" in said[2]
    summary["metrics"]["church"]["0.98"] = level(0.7, 9)
    assert not any(n.startswith("church") for n in notes(summary))
