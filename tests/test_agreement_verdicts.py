"""Map agreement against the seed-to-seed baseline (prunelib.sweep.agreement), with known answers."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from prunelib.sweep import agreement
from prunelib.sweep.measurement import save_maps

SETTINGS = {"image_size": 32, "methods": ["VG"]}


def _runs(tmp_path: Path, pruned_spearman: float) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    shared = torch.rand(5, 8, 8, generator=g)  # where every dense network looks, more or less
    runs = []
    for seed in (0, 1, 2):
        dense = {"network": "dense", "target": 0.0, "checkpoint": str(tmp_path / f"s{seed}" / "dense" / "best.pt"),
                 "identity": f"dense-{seed}",
                 "checkpoint_sha256": f"{seed:064d}", "images": [3, 5, 7, 9, 11], "correct": [True] * 5}
        save_maps(dense, SETTINGS, {"VG": (shared + 0.3 * torch.rand(5, 8, 8, generator=g)).half()})
        pruned = {"network": "pruned", "target": 0.2, "near_chance": False,
                  "agreement": {"VG": {"spearman": [pruned_spearman + 0.01 * seed] * 5, "top10_iou": [0.9] * 5}}}
        runs.append({"regime": "global", "seed": seed, "settings": SETTINGS, "networks": [dense, pruned]})
    return runs


def test_the_baseline_pools_every_other_seed_s_dense_network(tmp_path: Path) -> None:
    base = agreement.baselines(_runs(tmp_path, 0.2))
    assert sorted(base) == [0, 1, 2] and len(base[0]["VG"]["spearman"]) == 10  # 2 other seeds x 5 images
    assert 0.3 < sum(base[0]["VG"]["spearman"]) / 10 < 0.99
    rows = agreement.baseline_rows(base, n_boot=20, seed=0)
    assert {r["network"] for r in rows} == {agreement.BASELINE} and len(rows) == 6
    both = {s: {"VG": m["VG"], "IG": m["VG"]} for s, m in base.items()}
    read_back = {s: dict(reversed(list({k: dict(reversed(v.items())) for k, v in m.items()}.items())))
                 for s, m in both.items()}  # the same pairs, read back from the stored file in another key order
    assert agreement.baseline_rows(read_back, n_boot=20, seed=0) == agreement.baseline_rows(both, n_boot=20, seed=0)


@pytest.mark.parametrize("spearman, verdict", [(0.0, "holds"), (0.999, "opposite")])  # claimed: down
def test_a_level_is_judged_against_the_baseline(tmp_path: Path, spearman: float, verdict: str) -> None:
    runs = _runs(tmp_path, spearman)
    out = agreement.agreement_verdicts(runs, agreement.baselines(runs))
    (row,) = out["regimes"]["global"]["VG"]["spearman"]
    assert row["verdict"] == verdict and row["n"] == 3 and out["missing_baseline"] == []
    assert out["baseline_pairs"] == [[0, 1], [0, 2], [1, 2]]
    assert out["claim"]["verdicts"]["global"]["dense"]["VG"] == verdict


def test_a_level_with_a_baseline_for_two_seeds_is_not_judged(tmp_path: Path) -> None:
    runs = _runs(tmp_path, 0.0)
    base = agreement.baselines(runs)
    out = agreement.agreement_verdicts(runs, {s: b for s, b in base.items() if s != 0})
    (row,) = out["regimes"]["global"]["VG"]["spearman"]
    assert row["verdict"] == "not judged (a seed-to-seed baseline for 2 seeds; the rule needs 3)"
    assert out["missing_baseline"] == [0] and out["baseline_pairs"] == [[1, 2]]


def test_without_cached_maps_the_baseline_is_reported_missing(tmp_path: Path) -> None:
    runs = _runs(tmp_path, 0.2)
    for p in tmp_path.rglob("maps-*.pt"):
        p.unlink()
    out = agreement.agreement_verdicts(runs, agreement.baselines(runs))
    assert out["missing_baseline"] == [0, 1, 2] and out["regimes"]["global"]["VG"]["spearman"] == []


def test_a_baseline_outlives_its_maps_for_the_same_dense_networks(tmp_path: Path) -> None:
    """The maps go with the machine; the baseline computed from them is kept beside the summary and reused for the
    same two dense networks, and for no other."""
    runs, stored = _runs(tmp_path, 0.2), tmp_path / agreement.BASELINES
    computed = agreement.baselines(runs, stored)
    for p in tmp_path.rglob("maps-*.pt"):
        p.unlink()
    assert agreement.baselines(runs, stored) == computed
    runs[2]["networks"][0]["identity"] = "dense-2-retrained"  # seed 2's dense network trained again: other maps
    again = agreement.baselines(runs, stored)
    assert sorted(again) == [0, 1] and len(again[0]["VG"]["spearman"]) == 5  # only the pair 0-1 is still valid


def test_a_baseline_is_not_reused_for_the_same_inputs_trained_elsewhere(tmp_path: Path) -> None:
    """The same seed and recipe trained on another machine (another CPU, a GPU) has the same run identity and other
    weights: its stored pair is not reused."""
    runs, stored = _runs(tmp_path, 0.2), tmp_path / agreement.BASELINES
    agreement.baselines(runs, stored)
    for p in tmp_path.rglob("maps-*.pt"):
        p.unlink()
    runs[2]["networks"][0]["checkpoint_sha256"] = "f" * 64  # same identity, other weights
    again = agreement.baselines(runs, stored)
    assert sorted(again) == [0, 1] and len(again[0]["VG"]["spearman"]) == 5


def test_retraining_a_dense_network_says_which_baseline_pairs_it_drops(tmp_path: Path) -> None:
    """Seed 2's dense maps are gone (trained on another machine): training seed 0 again here drops the pair 0-2,
    not 0-1 (seed 1's maps are here); training seeds 0 and 2 together drops nothing."""
    runs = _runs(tmp_path, 0.2)
    next(tmp_path.glob("s2/**/maps-*.pt")).unlink()
    assert agreement.dropped_by_retraining(runs, {0}) == [(0, 2)]
    assert agreement.dropped_by_retraining(runs, {0, 1}) == [(0, 2), (1, 2)]
    assert agreement.dropped_by_retraining(runs, {0, 2}) == []
    assert agreement.dropped_by_retraining(runs, set()) == []


def test_the_sweep_says_so_before_a_job_that_drops_a_baseline(tmp_path: Path, monkeypatch) -> None:
    from types import SimpleNamespace

    from prunelib.sweep import runner, summary
    runs = _runs(tmp_path, 0.2)
    next(tmp_path.glob("s2/**/maps-*.pt")).unlink()
    monkeypatch.setattr(summary, "load_runs", lambda profile: runs)
    monkeypatch.setattr(runner, "networks_to_train", lambda job: [("dense", None)] if job.seed == 0 else [])
    (note,) = runner._baseline_losses("p", [SimpleNamespace(seed=0), SimpleNamespace(seed=1)])
    assert "seed 0's dense network" in note and "with seed 2" in note and "--seeds 0,2" in note
    monkeypatch.setattr(runner, "networks_to_train", lambda job: [("global/level-50", None)])
    assert runner._baseline_losses("p", [SimpleNamespace(seed=0)]) == []  # no dense network trained: nothing lost


def test_a_dense_network_whose_maps_are_gone_is_paired_through_the_compact_maps_git_keeps(tmp_path: Path,
                                                                                           monkeypatch) -> None:
    """Each job keeps its dense network's maps in git in compact form (prunelib.state): where the maps cached beside
    its checkpoint went with their machine and no stored pair names it, its pairs are computed from them, close to
    the pairs of the full maps (each pixel's rank in 16 bins: Spearman within 0.01, the top-10 % overlap the same)."""
    from prunelib import checkpoint, state
    from prunelib.sweep.measurement import maps_file

    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path / "results"))
    runs = _runs(tmp_path, 0.2)
    exact = agreement.baselines(runs)
    for run in runs:
        run["profile"] = "p"
        dense = run["networks"][0]
        state.write_reference("p", run["seed"], dense, SETTINGS, torch.tensor(dense["correct"]),
                              checkpoint.load(maps_file(dense, SETTINGS)))
    next(tmp_path.glob("s0/**/maps-*.pt")).unlink()
    assert sorted(agreement.baselines([{k: v for k, v in r.items() if k != "profile"} for r in runs])) == [1, 2]
    compact = agreement.baselines(runs)
    assert sorted(compact) == [0, 1, 2]
    for seed in (0, 1, 2):
        got, want = compact[seed]["VG"], exact[seed]["VG"]
        assert max(abs(a - b) for a, b in zip(got["spearman"], want["spearman"])) < 0.01
        assert got["top10_iou"] == pytest.approx(want["top10_iou"])
    state.maps_file("p", 0, runs[0]["networks"][0]["checkpoint_sha256"]).unlink()
    assert sorted(agreement.baselines(runs)) == [1, 2]  # neither the maps nor their compact form: no pair with seed 0
