"""The cost of the study's jobs (prunelib.sweep.compute), read from the networks' own timings."""
from __future__ import annotations

import json

from prunelib import paths
from prunelib.sweep.compute import compute_rows


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
