"""The authors' loop taken apart (prunelib.sweep.decomposition): contrasts of networks from different jobs of a
seed, paired image by image on the fixed set, with known answers."""
from __future__ import annotations

import pytest

from prunelib.sweep.decomposition import decomposition


def _net(kind: str, rnd: int | None, gini: list[float], correct: list[bool] | None = None) -> dict:
    return {"network": kind, "round": rnd, "target": 0.2 if rnd else 0.0, "level": 1.5, "top1": 0.8,
            "near_chance": False, "images": [10, 20, 30, 40], "correct": correct or [True] * 4,
            "mask_sparsity": 0.2 if rnd else None,
            "methods": {"VG": {"gini": gini, "road": {}}, "IG": {"gini": gini, "road": {}}}}


REFERENCE = {"sparsity": [0.0, 0.1, 0.2, 0.3], "gini": {"VG": [0.40, 0.45, 0.44, 0.43], "IG": [0.5, 0.5, 0.5, 0.5]},
             "aopc": {"VG": [0.2] * 4, "IG": [0.2] * 4}}


def _runs(seeds: list[int]) -> list[dict]:
    runs = []
    for seed in seeds:
        base = [0.40 + 0.01 * i + 0.002 * seed for i in range(4)]
        dense = {**_net("dense", None, base), "checkpoint_sha256": f"dense of seed {seed}"}
        runs.append({"regime": "authors_code", "seed": seed, "networks": [
            dense, _net("pruned", 1, [b + 0.04 + 0.001 * seed for b in base])]})
        runs.append({"regime": "authors_unpruned", "seed": seed, "networks": [
            dense, _net("pruned", 1, [b + 0.03 for b in base])]})
    return runs


def test_contrasts_pair_networks_of_different_jobs_image_by_image() -> None:
    out = decomposition(_runs([0, 1, 2]), REFERENCE)
    by = {c["contrast"]: c["metrics"] for c in out["contrasts"]}
    a1 = by["A1 - D"]["gini_vg"]
    assert a1["seeds"] == pytest.approx({0: 0.04, 1: 0.041, 2: 0.042}) and a1["unit"] == "seed"
    assert a1["estimate"] == pytest.approx(0.041) and a1["low"] < 0.041 < a1["high"]
    assert a1["paper_jump"] == pytest.approx(0.04)  # the paper's dense -> "20 %"
    assert by["S - D"]["gini_vg"]["estimate"] == pytest.approx(0.03)
    assert by["A1 - S"]["gini_vg"]["estimate"] == pytest.approx(0.011)
    assert by["M1 - A1"] == {} and out["networks"][0]["A1"]["mask_sparsity"] == 0.2


def test_networks_of_two_realizations_of_d_are_compared_through_their_parents() -> None:
    """Seed 1's S was pruned from another realization of D (trained again elsewhere: +0.01 everywhere, and one image
    it misclassifies): A1 - S is (A1 - D) - (S - D') over the images all four classify correctly; seeds 0 and 2,
    one D, stay a direct pair."""
    runs = _runs([0, 1, 2])
    unpruned = next(r for r in runs if r["regime"] == "authors_unpruned" and r["seed"] == 1)
    dense, s = unpruned["networks"]
    other = [g + 0.01 for g in dense["methods"]["VG"]["gini"]]
    unpruned["networks"] = [{**_net("dense", None, other, [True, True, True, False]), "checkpoint_sha256": "another"},
                            {**s, "methods": {m: {"gini": [g + 0.03 for g in other], "road": {}}
                                              for m in ("VG", "IG")}}]
    row = {c["contrast"]: c["metrics"] for c in decomposition(runs, REFERENCE)["contrasts"]}["A1 - S"]["gini_vg"]
    assert row["across_parents"] == [1] and row["n_images"] == {0: 4, 1: 3, 2: 4}
    assert row["seeds"] == pytest.approx({0: 0.010, 1: 0.011, 2: 0.012})  # a direct pair would give 0.001 for seed 1


def test_one_record_is_one_network_by_digest_or_history_never_by_its_inputs() -> None:
    from prunelib.sweep.records import same_network
    history = [{"val_top1": 0.4}, {"val_top1": 0.6}]
    a = {"checkpoint_sha256": "a", "identity": "inputs", "history": history, "top1": 0.6}
    assert same_network(a, {**a, "checkpoint_sha256": "saved again"})  # the same training, other bytes
    assert not same_network(a, {**a, "checkpoint_sha256": "b", "history": [{"val_top1": 0.4}, {"val_top1": 0.61}]})
    assert not same_network({"identity": "inputs", "top1": 0.6}, {**a, "checkpoint_sha256": "b"})
    assert same_network({"identity": "inputs", "top1": 0.6}, {"identity": "inputs", "top1": 0.6})  # old records


def test_one_seed_is_judged_within_one_run_on_the_images_both_classify_correctly() -> None:
    runs = _runs([0])
    runs[0]["networks"][1]["correct"] = [True, False, True, True]
    a1 = {c["contrast"]: c["metrics"] for c in decomposition(runs, REFERENCE)["contrasts"]}["A1 - D"]["gini_vg"]
    assert a1["unit"] == "image" and a1["n_images"] == {0: 3} and a1["estimate"] == pytest.approx(0.04)


def test_a_contrast_gets_a_verdict_per_metric_under_the_seed_rule() -> None:
    runs = _runs([0, 1, 2])
    for run in runs:  # A1's effect: -0.001, 0, +0.001 around zero, far from the paper's +0.04
        if run["regime"] == "authors_code":
            dense, a1 = run["networks"]
            a1["methods"]["VG"]["gini"] = [g + 0.001 * (run["seed"] - 1) for g in dense["methods"]["VG"]["gini"]]
    by = {c["contrast"]: c["metrics"] for c in decomposition(runs, REFERENCE)["contrasts"]}
    # zero within, the paper's jump beyond the 90 % interval; A1 - D is a level of the claim, judged in its family
    assert by["A1 - D"]["gini_vg"]["verdict"] == "smaller than the paper's"
    assert by["A1 - D"]["gini_vg"]["family"].startswith("the levels of the claim")
    assert by["S - D"]["gini_vg"]["verdict"] == "holds"  # +0.03 on every seed: a rise
    assert by["A1 - S"]["gini_vg"]["verdict"] == "opposite"  # -0.03 on every seed
    assert by["A1 - S"]["gini_vg"]["p_holm"] >= by["A1 - S"]["gini_vg"]["p"]  # Holm over the contrast's metrics
    assert by["A1 - S"]["gini_vg"]["family"] == "the metrics of A1 - S"


def test_a_verdict_on_one_seed_says_within_one_run() -> None:
    from prunelib.sweep.decomposition import verdict_text
    a1 = {c["contrast"]: c["metrics"] for c in decomposition(_runs([0]), REFERENCE)["contrasts"]}["A1 - D"]
    assert a1["gini_vg"]["unit"] == "image" and verdict_text(a1["gini_vg"]).endswith("(within one run)")


def test_an_effect_larger_than_the_papers_jump_is_said_to_be_larger() -> None:
    """A1 - D, AOPC MoRF IG of the study: an interval beyond the paper's small jump reads *larger than the paper's*,
    with its bound, where Holm leaves it short of *holds*."""
    from prunelib.sweep.decomposition import verdict_text
    row = {"verdict": "larger than the paper's", "unit": "seed", "bound": 0.031, "share": 0.031 / 0.003,
           "paper_jump": 0.003}
    assert verdict_text(row) == "larger than the paper's; effects above 1033 % of the paper's jump excluded"


def test_a_contrast_against_d_uses_the_dense_network_of_its_own_job() -> None:
    """A seed's jobs measured beside two dense networks (retrained on another machine): A1 - D and S - D each pair
    with the dense network their minuend was measured beside, not with whichever job came first."""
    runs = _runs([0])
    other_dense = _net("dense", None, [0.5, 0.5, 0.5, 0.5])  # authors_code's dense network, retrained
    a1 = _net("pruned", 1, [0.52, 0.53, 0.51, 0.52])
    runs[0]["networks"] = [other_dense, a1]
    by = {c["contrast"]: c["metrics"] for c in decomposition(runs, REFERENCE)["contrasts"]}
    assert by["A1 - D"]["gini_vg"]["estimate"] == pytest.approx(0.02)
    assert by["S - D"]["gini_vg"]["estimate"] == pytest.approx(0.03)
