"""The judging rule (prunelib.sweep.seed_rule): its formulas on known answers (intervals, Holm, the bound, the
verdict words, class-clustered errors) and its application to jobs' result files. Its simulation: test_power.py."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from prunelib.sweep import seed_rule
from prunelib.sweep.seed_rule import (ALPHA, HOLDS, INCONCLUSIVE, LARGER, OPPOSITE, SMALLER, UNDERPOWERED, claim_verdict,
                                      describe, judge_levels)


def test_the_t_interval_of_three_seeds() -> None:
    row = seed_rule.interval([1.0, 2.0, 3.0])  # mean 2, sd 1, t(0.975, 2) = 4.3027
    assert row["estimate"] == 2.0 and row["high"] - 2.0 == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    assert row["p"] == pytest.approx(0.0742, abs=1e-4)  # t = 2 sqrt(3) on 2 df, two-sided
    assert seed_rule.interval([0.5])["low"] is None


def test_holm_is_statsmodels_holm() -> None:
    p = np.random.default_rng(0).uniform(0, 0.2, (12, 4))
    p[0, 1] = p[0, 2]  # a tie
    expected = np.array([multipletests(row, method="holm")[1] for row in p])
    assert np.allclose(seed_rule.holm_rows(p), expected)
    assert all(np.allclose(seed_rule.holm(list(row)), want) for row, want in zip(p, expected))
    assert seed_rule.holm([0.01, None, 0.04]) == pytest.approx([0.02, None, 0.04])


def _moments(per_level: list[list[float]]) -> list[tuple[float, float, float]]:
    return [tuple(float(a) for a in seed_rule.seed_moments(np.array(v))) for v in per_level]


def test_level_verdicts_follow_the_rule_with_their_bounds() -> None:
    up = _moments([[0.05, 0.051, 0.049]] * 2)  # two levels, three seeds, clearly up
    rows = judge_levels(up, +1, [0.04, None])
    assert [r["verdict"] for r in rows] == [HOLDS, HOLDS]
    assert [r["verdict"] for r in judge_levels(up, -1, [None, None])] == [OPPOSITE, OPPOSITE]
    # the bound is the 90 % interval's end in the claimed direction: mean + t(0.95, 2) sd / sqrt(3)
    null = [[0.001, -0.001, 0.0005]]
    (row,) = judge_levels(_moments(null), +1, [0.046])
    sd = np.std(null[0], ddof=1)
    assert row["bound"] == pytest.approx(np.mean(null[0]) + stats.t.ppf(0.95, 2) * sd / np.sqrt(3))
    assert row["share"] == pytest.approx(row["bound"] / 0.046) and row["verdict"] == SMALLER
    # a claimed fall: the bound is the lower end, and the share is of a paper's fall
    (fall,) = judge_levels(_moments([[-0.001, 0.001, -0.0005]]), -1, [-0.046])
    assert fall["bound"] == pytest.approx(fall["low90"]) and fall["verdict"] == SMALLER
    # an interval beyond the paper's jump, not significant after Holm over two levels: larger than the paper's
    beyond = _moments([[0.010, 0.030, 0.020], [0.0, 0.001, -0.001]])
    rows = judge_levels(beyond, +1, [0.003, None])
    assert rows[0]["p_holm"] >= ALPHA and rows[0]["low90"] > 0.003 and rows[0]["verdict"] == LARGER
    # wide, nothing excluded: underpowered where the design's power is below 80 %, else inconclusive
    wide = _moments([[0.05, -0.04, 0.01]])
    assert judge_levels(wide, +1, [0.02], power=0.3)[0]["verdict"] == UNDERPOWERED
    assert judge_levels(wide, +1, [0.02], power=0.9)[0]["verdict"] == INCONCLUSIVE
    # no share where the paper's jump goes against the claim
    assert judge_levels(wide, +1, [-0.013])[0]["share"] is None


def test_claim_verdicts_over_levels() -> None:
    def rows(*verdicts: str, jumps=None) -> list[dict]:
        jumps = jumps or [0.04] * len(verdicts)
        return [{"verdict": v, "paper_jump": j, "level": 10.0 * (k + 1)} for k, (v, j) in
                enumerate(zip(verdicts, jumps))]
    assert claim_verdict(rows(HOLDS, INCONCLUSIVE), +1) == HOLDS
    assert claim_verdict(rows(SMALLER, SMALLER), +1) == SMALLER
    assert claim_verdict(rows(SMALLER, INCONCLUSIVE), +1) == INCONCLUSIVE
    assert claim_verdict(rows(SMALLER, INCONCLUSIVE), +1, power=0.5) == UNDERPOWERED
    assert claim_verdict(rows(SMALLER, INCONCLUSIVE, jumps=[0.04, -0.01]), +1) == SMALLER  # a paper fall: no share
    assert claim_verdict(rows(LARGER, INCONCLUSIVE), +1) == LARGER
    assert claim_verdict(rows(HOLDS, OPPOSITE), +1) == f"{INCONCLUSIVE} (holds at 10 %, opposite at 20 %)"
    assert claim_verdict(rows(seed_rule.TOO_FEW, SMALLER), +1) == SMALLER
    assert describe(SMALLER, [{"verdict": SMALLER, "bound": 0.01, "share": 0.06},
                              {"verdict": SMALLER, "bound": 0.02, "share": 0.48}], +1) == \
        "smaller than the paper's; effects above 6 to 48 % of the paper's jump excluded"


def test_the_vectorised_rule_is_the_rule() -> None:
    rng = np.random.default_rng(1)
    per_seed = rng.normal(0.01, 0.01, (300, 3, 3))
    paper = [0.03, None, 0.02]
    levels = seed_rule.judge_arrays(*seed_rule.seed_moments(per_seed), +1, paper, power=0.5)["verdict"]
    fast = seed_rule.claim_arrays(levels, [j is not None for j in paper], power=0.5)
    for study, verdict in zip(per_seed, fast):
        rows = judge_levels(_moments(list(study)), +1, paper, power=0.5)
        for k, r in enumerate(rows):
            r["level"] = 10.0 * k
        assert claim_verdict(rows, +1, power=0.5).split(" (")[0] == verdict


def test_clustered_moments_are_statsmodels_cluster_errors() -> None:
    """Images of a class move together: the class-clustered standard error is larger than the per-image one, and
    is the sandwich formula with statsmodels' small-sample factor G/(G-1) (n-1)/(n-1)."""
    rng = np.random.default_rng(3)
    classes = np.repeat(np.arange(10), 30)
    y = rng.normal(0, 1, 10)[classes] + rng.normal(0, 0.5, 300)
    mean, se, df = seed_rule.clustered_moments(y, classes)
    r = y - y.mean()
    by_class = np.array([r[classes == g].sum() for g in range(10)])
    assert mean == pytest.approx(y.mean()) and df == 9
    assert se == pytest.approx(np.sqrt(10 / 9 * (by_class ** 2).sum()) / 300, rel=1e-9)
    assert se > 2 * y.std(ddof=1) / np.sqrt(300)
    assert seed_rule.clustered_moments(y, None)[2] == 299


def _network(kind: str, target: float, gini: list[float]) -> dict:
    return {"network": kind, "target": target, "level": 100 * target, "near_chance": False,
            "images": list(range(len(gini))), "correct": [True] * len(gini),
            "methods": {"VG": {"gini": gini, "road": {}}}}


def test_seed_verdicts_on_jobs_with_a_known_effect() -> None:
    reference = {"sparsity": [0.0, 0.1, 0.2], "gini": {"VG": [0.40, 0.45, 0.44]}, "aopc": {"VG": [0.2, 0.2, 0.2]}}
    runs = []
    for seed, effect in ((0, 0.050), (1, 0.052), (2, 0.048)):
        base = [0.40 + 0.01 * i + 0.003 * seed for i in range(6)]
        runs.append({"regime": "global", "seed": seed, "networks": [
            _network("dense", 0.0, base), _network("pruned", 0.2, [b + effect for b in base])]})
    out = seed_rule.seed_verdicts(runs, reference, power={})
    (row,) = out["levels"]["global"]["dense"]["gini_light"]["VG"]
    assert row["estimate"] == pytest.approx(0.05) and row["unit"] == "seed" and row["n_seeds"] == 3
    assert row["paper_jump"] == pytest.approx(0.04) and row["verdict"] == "holds"
    assert out["claims"]["gini_light"]["verdicts"]["global"]["dense"]["VG"] == "holds"
    assert out["claims"]["gini_light"]["by_regime"]["global"]["dense"]["VG"].startswith("holds; effects above")
    one = seed_rule.seed_verdicts(runs[:1], reference, power={})
    assert one["claims"]["gini_light"]["verdicts"]["global"]["dense"]["VG"] == "holds within one run (1 seed)"
    runs[0]["networks"][1]["correct"] = [False] * 6  # shares no correct image with its dense network
    out = seed_rule.seed_verdicts(runs, reference, power={})
    assert out["unjudged"] == ["global seed 0 at 20 %: no image it and its dense network both classify correctly"]


def test_a_nan_value_is_left_out_not_fatal() -> None:
    dense, pruned = _network("dense", 0.0, [0.4, 0.5, 0.6]), _network("pruned", 0.2, [0.45, float("nan"), 0.65])
    assert seed_rule.paired_values(pruned, dense, "gini", "VG") == pytest.approx([0.05, 0.05])


def test_a_level_on_fewer_than_three_seeds_is_shown_not_judged() -> None:
    """Rule 7: a job stopped before its last level leaves that level on 2 seeds; it takes no verdict (a t-interval
    on 1 degree of freedom would otherwise judge it), and the claim is judged over the other levels and names it."""
    reference = {"sparsity": [0.0, 0.1, 0.2], "gini": {"VG": [0.40, 0.45, 0.44]}, "aopc": {"VG": [0.2, 0.2, 0.2]}}
    runs = []
    for seed, effect in ((0, 0.050), (1, 0.052), (2, 0.048)):
        base = [0.40 + 0.01 * i + 0.003 * seed for i in range(6)]
        nets = [_network("dense", 0.0, base), _network("pruned", 0.2, [b + effect for b in base])]
        if seed < 2:  # seed 2 stopped before 50 %
            nets.append(_network("pruned", 0.5, [b + 0.2 * (seed - 0.5) for b in base]))
        runs.append({"regime": "global", "seed": seed, "networks": nets})
    out = seed_rule.seed_verdicts(runs, reference, power={})
    at20, at50 = out["levels"]["global"]["dense"]["gini_light"]["VG"]
    assert at20["verdict"] == "holds" and at20["n_seeds"] == 3
    assert at50["verdict"] == seed_rule.TOO_FEW and at50["n_seeds"] == 2 and at50["p_holm"] is None
    assert at20["p_holm"] == pytest.approx(at20["p"])  # Holm over the judged level alone
    assert out["claims"]["gini_light"]["verdicts"]["global"]["dense"]["VG"] == \
        "holds (50 % on fewer than 3 seeds: not judged)"


def _concepts(seed: int, change: float) -> dict:
    def net(kind: str, level: float, shift: float) -> dict:
        return {"network": kind, "level": level, "identity": f"{kind}{level}",
                "classes": {c: {"coherence": {"per_concept": [0.9 + shift, 0.8 + shift]}} for c in ("a", "b")}}
    return {"regime": "global", "seed": seed, "networks": [net("dense", 0.0, 0.0), net("pruned", 90.0, change)]}


def test_concept_coherence_is_judged_over_seeds_or_not_judged_with_the_reason() -> None:
    runs = [{"regime": "global", "seed": s, "networks": [{"identity": "pruned90.0", "near_chance": False}]}
            for s in range(3)]
    one = seed_rule.concept_verdicts(runs, [_concepts(0, -0.05)])
    assert one["claim"]["verdicts"]["global"]["dense"]["CRAFT"] == \
        "not judged (concepts measured on 1 seed (0); the rule needs 3)"
    assert one["levels"]["global"][0]["estimate"] == pytest.approx(-0.05)
    three = seed_rule.concept_verdicts(runs, [_concepts(s, c) for s, c in ((0, -0.05), (1, -0.051), (2, -0.049))])
    (row,) = three["levels"]["global"]
    assert row["verdict"] == HOLDS and row["estimate"] == pytest.approx(-0.05)  # a fall: the claimed direction
    assert three["claim"]["by_regime"]["global"]["dense"]["CRAFT"].startswith("holds; effects below")


def test_one_image_within_one_run_has_no_interval_and_no_warning() -> None:
    import math
    import warnings

    from prunelib.sweep.seed_rule import clustered_moments
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, se, df = clustered_moments([0.25], [3])
        empty = clustered_moments([], None)
    assert mean == 0.25 and math.isnan(se) and df == 0.0
    assert math.isnan(empty[0]) and math.isnan(empty[1])


def _control_study(effect_of_finetuning: float, *, same_dense: bool = True) -> list[dict]:
    """Three seeds of global pruning (a level at 20 % raising Gini by 0.05) and their fine-tuned controls (raising
    it by ``effect_of_finetuning``), each control in a job of its own, as the sweep writes them."""
    runs = []
    for seed, noise in ((0, 0.001), (1, -0.001), (2, 0.0)):
        base = [0.40 + 0.01 * i + 0.003 * seed for i in range(6)]
        dense = {**_network("dense", 0.0, base), "checkpoint_sha256": f"dense{seed}"}
        other = {**dense, "checkpoint_sha256": dense["checkpoint_sha256"] if same_dense else "another"}
        runs.append({"regime": "global", "seed": seed, "networks": [
            dense, _network("pruned", 0.2, [b + 0.05 + noise for b in base])]})
        runs.append({"regime": "global_finetuned", "seed": seed, "networks": [
            other, _network("pruned", 0.0, [b + effect_of_finetuning + noise for b in base])]})
    return runs


def test_the_fine_tuned_control_is_global_pruning_s_control() -> None:
    from prunelib.sweep.controls import attach
    runs, notes = attach(_control_study(0.04))
    assert notes == [] and [r["regime"] for r in runs] == ["global"] * 3  # the control jobs are no regime of their own
    control = runs[0]["networks"][-1]
    assert control["network"] == "control" and control["control_job"] == "global_finetuned-seed0"
    runs, notes = attach(_control_study(0.04, same_dense=False))
    assert all(n["network"] != "control" for r in runs for n in r["networks"]) and len(notes) == 3
    assert "fine-tuned from another dense network than global seed 0 measured" in notes[0]
    alone, notes = attach([r for r in _control_study(0.04) if r["seed"] != 1 or r["regime"] != "global"])
    assert notes == ["global_finetuned seed 1: not used as a control yet (global seed 1 is not measured)"]


def test_each_level_is_judged_against_the_control_and_the_control_against_dense() -> None:
    """Rule 1: a level raising Gini by 0.05 over dense, after a fine-tuning that alone raises it by 0.04, moves it by
    0.01 over its control; the control's own effect is judged against the paper's first jump (0.05)."""
    from prunelib.sweep.controls import attach
    reference = {"sparsity": [0.0, 0.1, 0.2], "gini": {"VG": [0.40, 0.45, 0.44]}, "aopc": {"VG": [0.2, 0.2, 0.2]}}
    out = seed_rule.seed_verdicts(attach(_control_study(0.04))[0], reference, power={})
    (vs_dense,) = out["levels"]["global"]["dense"]["gini_light"]["VG"]
    (vs_control,) = out["levels"]["global"]["control"]["gini_light"]["VG"]
    assert vs_dense["estimate"] == pytest.approx(0.05) and vs_control["estimate"] == pytest.approx(0.01)
    effect = out["control_effects"]["global"]["gini_light"]["VG"]
    (row,) = effect["rows"]
    assert row["estimate"] == pytest.approx(0.04) and row["level"] == 0 and row["paper_jump"] == pytest.approx(0.05)
    assert effect["verdict"] == HOLDS and effect["said"].startswith("holds; effects above")
    small = seed_rule.seed_verdicts(attach(_control_study(0.0))[0], reference, power={})
    assert small["control_effects"]["global"]["gini_light"]["VG"]["verdict"] == SMALLER
    assert "gini_aggressive" not in small["control_effects"]["global"]  # a light claim's question only


def test_an_archive_is_judged_with_its_own_concept_measurements(tmp_path, monkeypatch) -> None:
    """The noise study's protocol v1 measured seed 0's concepts beside its jobs: the archive's verdicts read those
    (by the networks' identities), not today's concept files of other networks."""
    import json
    import shutil
    from prunelib import paths
    from prunelib.sweep.aggregate import judge_archive

    archive = paths.results_dir("noise") / "protocol-v1"
    shutil.copytree(archive, tmp_path / "noise" / "protocol-v1")
    shutil.copy(paths.results_dir("noise") / seed_rule.POWER_FILE, tmp_path / "noise")
    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path))
    verdicts = json.loads(judge_archive("noise", "protocol-v1", echo=lambda _: None).read_text())
    concepts = verdicts["levels"]["concepts"]
    assert {regime: sorted({s for row in rows for s in row["seeds"]}) for regime, rows in concepts.items()} == {
        "global": ["0"], "lottery": ["0"]}
    assert all(row["verdict"].startswith("not judged (concepts measured on 1 seed (0)") for rows in concepts.values()
               for row in rows)
    assert verdicts == json.loads((archive / "seed_verdicts.json").read_text())  # as the sweep wrote it
