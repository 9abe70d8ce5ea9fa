"""The cost of the study's jobs (prunelib.sweep.compute), read from the networks' own timings."""
from __future__ import annotations

import json

import pytest

from prunelib import paths
from prunelib.__main__ import main as cli
from prunelib.profiles import parse_study
from prunelib.sweep.compute import compute_rows, remaining_rows, remaining_said


def test_a_jobs_hours_are_the_sum_of_its_networks_seconds(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(paths, "results_dir", lambda profile: tmp_path / profile)
    runs = tmp_path / "demo" / "runs"
    runs.mkdir(parents=True)
    nets = [{"network": "dense", "seconds": 3600.0, "measure_seconds": 360.0},
            {"network": "pruned", "seconds": 1800.0, "measure_seconds": None}]
    run = {"profile": "demo", "regime": "global", "seed": 1, "settings": {}, "networks": nets, "complete": False,
           "provenance": {"device": "cpu", "cpu": "Intel Xeon (amx_bf16)"}}
    (runs / "global-seed1.json").write_text(json.dumps(run))
    [row] = compute_rows("demo")
    assert row == {"regime": "global", "seed": 1, "networks": 2, "training (h)": 1.5, "measuring (h)": None,
                   "where": "Intel Xeon (amx_bf16)", "complete": False}
    nets[1]["measure_seconds"] = 360.0
    run["provenance"] = {"device": "cuda"}
    (runs / "global-seed1.json").write_text(json.dumps(run))
    assert compute_rows("demo")[0]["measuring (h)"] == 0.2 and compute_rows("demo")[0]["where"] == "cuda"
    run["provenance"] = {"device": "cuda", "gpu": "NVIDIA H200", "cpu": "Intel Xeon (host)"}
    (runs / "global-seed1.json").write_text(json.dumps(run))
    assert compute_rows("demo")[0]["where"] == "NVIDIA H200"  # the GPU, not the host's CPU


DEMO = """demo:
  levels: "10,20"
  lottery_rate: 20
  lottery_rounds: 2
  study: "0,1: global; 0: lottery"
"""


def _job(root, regime: str, seed: int, nets: list[dict], complete: bool, device: str = "cpu") -> None:
    run = {"profile": "demo", "regime": regime, "seed": seed, "settings": {}, "networks": nets, "complete": complete,
           "provenance": {"device": device}}
    (root / "demo" / "runs").mkdir(parents=True, exist_ok=True)
    (root / "demo" / "runs" / f"{regime}-seed{seed}.json").write_text(json.dumps(run))


def test_what_remains_of_the_studys_design_is_its_jobs_without_a_complete_result(tmp_path, monkeypatch, capsys
                                                                                 ) -> None:
    monkeypatch.setattr(paths, "results_dir", lambda profile: tmp_path / profile)
    (tmp_path / "profiles.yaml").write_text(DEMO)
    monkeypatch.setenv("PRUNELIB_PROFILES", str(tmp_path / "profiles.yaml"))
    # a dense network resumed after a kill: its history has both epochs (1 h), its seconds only the last process's
    dense = {"network": "dense", "seconds": 60.0, "measure_seconds": 0.0,
             "history": [{"epoch": 0, "seconds": 1800.0}, {"epoch": 1, "seconds": 1800.0}]}
    pruned = {"network": "pruned", "seconds": 300.0, "measure_seconds": 60.0}  # 0.1 h each
    _job(tmp_path, "global", 0, [dense, pruned, pruned], complete=True)
    _job(tmp_path, "global", 1, [dense], complete=False)
    # a job that shared a GPU with others: its seconds are not a job's cost, and no estimate reads them
    gpu = {**pruned, "seconds": 3.0}
    _job(tmp_path, "lottery", 1, [{**gpu, "network": "control"}, gpu], complete=False, device="cuda")
    rows = remaining_rows("demo")
    assert rows == [
        {"regime": "global", "seed": 1, "networks measured": 1, "networks made": 3, "networks left": 2,
         "estimate (h)": 0.2, "derived missing": []},
        # seed 0's dense network is measured (one for all its jobs); no lottery network is timed yet
        {"regime": "lottery", "seed": 0, "networks measured": 0, "networks made": 4, "networks left": 3,
         "estimate (h)": None, "derived missing": []}]
    said = remaining_said(["demo"])
    assert said.startswith("Not yet measured: on the demo profile, global seed 1 (1 of its 3 networks measured) "
                           "and lottery seed 0.")
    assert "about 0.2 hours of training and measuring and 1 job of a kind not timed yet." in said
    assert cli(["sweep", "--profile", "demo", "--remaining"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == ["global-seed1: 1 of 3 networks measured, 2 to train and measure (~0.2 h)",
                           "lottery-seed0: 0 of 4 networks measured, 3 to train and measure (not timed yet)"]
    assert printed[2] == said
    _job(tmp_path, "global", 1, [dense, pruned, pruned], complete=True)
    _job(tmp_path, "lottery", 0, [dense, pruned, pruned, {**pruned, "network": "control"}], complete=True)
    assert remaining_rows("demo") == [] and remaining_said(["demo"]) == "Every job of the study's design is measured."


def test_here_the_checkpoints_a_remaining_job_starts_from_count_where_they_are_gone(tmp_path, monkeypatch, capsys
                                                                                   ) -> None:
    monkeypatch.setattr(paths, "results_dir", lambda profile: tmp_path / profile)
    (tmp_path / "profiles.yaml").write_text(DEMO.replace('study: "0,1: global; 0: lottery"', 'study: "0: global, lottery"'))
    monkeypatch.setenv("PRUNELIB_PROFILES", str(tmp_path / "profiles.yaml"))
    kept = tmp_path / "kept.pt"
    kept.write_bytes(b"")
    dense = {"network": "dense", "seconds": 3600.0, "measure_seconds": 0.0, "checkpoint": str(tmp_path / "gone.pt")}
    pruned = {"network": "pruned", "seconds": 360.0, "measure_seconds": 0.0, "checkpoint": str(kept)}
    lottery = {"network": "pruned", "seconds": 1800.0, "measure_seconds": 0.0, "checkpoint": str(tmp_path / "g2.pt")}
    _job(tmp_path, "global", 0, [dense, pruned], complete=False)
    _job(tmp_path, "lottery", 0, [dense, {**lottery, "network": "control"}, lottery], complete=False)
    rows = remaining_rows("demo", here=True)
    # global: one level left (0.1 h) and its dense network gone (1 h); lottery: the dense network is counted once,
    # with the global job; its control and its first round are gone (0.5 h each) and round 2 is left (0.5 h)
    assert [(r["networks left"], r["estimate (h)"], r["to retrain here"], r["estimate here (h)"]) for r in rows] == [
        (1, 0.1, 1, 1.1), (1, 0.5, 2, 1.5)]
    assert remaining_rows("demo") == [{k: v for k, v in r.items() if "here" not in k} for r in rows]
    kept.rename(tmp_path / "gone.pt")  # the dense network is here, the global job's level is not
    assert [r["to retrain here"] for r in remaining_rows("demo", here=True)] == [1, 2]
    assert cli(["sweep", "--profile", "demo", "--remaining"]) == 0
    printed = capsys.readouterr().out
    assert ("global-seed0: 2 of 3 networks measured, 1 to train and measure (~0.1 h); the checkpoint of 1 measured "
            "network it starts from is not on this machine: ~0.2 h here") in printed
    assert "On this machine, which lacks 3 of the checkpoints these jobs start from, about 1.7 hours." in printed


@pytest.mark.parametrize("study, expected", [
    ("0,1: global", [(0, "global"), (1, "global")]),
    ("0: global, lottery; 2: authors_code", [(0, "global"), (0, "lottery"), (2, "authors_code")]),
    ("0 global", "is not 'seeds: regimes'"), ("x: global", "is not 'seeds: regimes'"),
    ("0: random", "'random' is not a regime"),
])
def test_a_study_setting_names_seeds_and_regimes(study, expected) -> None:
    if isinstance(expected, list):
        assert parse_study(study) == expected
    else:
        with pytest.raises(ValueError, match=expected):
            parse_study(study)


def test_a_jobs_estimate_counts_the_concept_metrics_where_the_profile_measures_them(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(paths, "results_dir", lambda profile: tmp_path / profile)
    (tmp_path / "profiles.yaml").write_text(DEMO.replace('study: "0,1: global; 0: lottery"', 'study: "0,1: global"')
                                            + '  craft_classes: "church"\n  concept_seeds: "1"\n')
    monkeypatch.setenv("PRUNELIB_PROFILES", str(tmp_path / "profiles.yaml"))
    dense = {"network": "dense", "identity": "d", "checkpoint_sha256": "a", "seconds": 3600.0, "measure_seconds": 0.0}
    pruned = {"network": "pruned", "identity": "p", "checkpoint_sha256": "b", "seconds": 300.0, "measure_seconds": 60.0}
    _job(tmp_path, "global", 0, [dense, pruned, pruned], complete=True)
    _job(tmp_path, "global", 1, [], complete=False)
    # no concept metrics timed yet: none counted
    assert [r["estimate (h)"] for r in remaining_rows("demo")] == [1.2]
    # seed 0 timed them at 0.1 h a network; seed 1 (its dense network and 2 levels left) wants them, seed 0 not
    concepts = {"networks": [{"network": "dense", "identity": "d", "checkpoint_sha256": "a", "seconds": 360.0},
                             {"network": "pruned", "identity": "p", "checkpoint_sha256": "b", "seconds": 360.0}]}
    (tmp_path / "demo" / "runs" / "concepts").mkdir()
    (tmp_path / "demo" / "runs" / "concepts" / "global-seed0.json").write_text(json.dumps(concepts))
    assert [r["estimate (h)"] for r in remaining_rows("demo")] == [1.5]  # 1.2 h and 3 networks x 0.1 h
    from prunelib.sweep.units import plan
    assert [(row["unit"].name, row["hours"]) for row in plan("demo")] == [("global-seed1", 1.5)]  # one unit


def test_a_dense_network_that_several_jobs_measured_counts_its_training_once(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(paths, "results_dir", lambda profile: tmp_path / profile)
    dense = {"network": "dense", "identity": "d", "checkpoint_sha256": "a", "seconds": 3600.0, "measure_seconds": 36.0}
    pruned = {"network": "pruned", "identity": "p", "checkpoint_sha256": "b", "seconds": 1800.0, "measure_seconds": 36.0}
    _job(tmp_path, "global", 0, [dense, pruned], complete=True)
    _job(tmp_path, "lottery", 0, [dense, {**pruned, "identity": "q"}], complete=True)
    _job(tmp_path, "lottery", 1, [{**dense, "checkpoint_sha256": "c"}], complete=False)  # another training
    rows = compute_rows("demo")
    assert [(r["regime"], r["seed"], r["training (h)"], r["measuring (h)"]) for r in rows] == [
        ("global", 0, 1.5, 0.02), ("lottery", 0, 0.5, 0.02), ("lottery", 1, 1.0, 0.01)]
