"""The sweep's other executors against the local one: a real single-node SLURM cluster (the same numbers), and
several jobs at once on one GPU stopped at a deadline and resumed (tools/one_gpu.py)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tiny_sweep import LIGHT, read_rows, run_sweep


# ------------------------------------------------------------------------ a real SLURM cluster
LOCAL_SLURM = Path(__file__).parent.parent / "tools" / "local-slurm.sh"


@pytest.fixture
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """munged, slurmctld and slurmd on this machine (tools/local-slurm.sh), stopped after the test."""
    missing = [b for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue")
               if not shutil.which(b) and not Path("/usr/sbin", b).exists()]
    if missing:
        pytest.skip(f"SLURM is not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("a single-node SLURM cluster needs root (slurmd)")
    folder = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(["bash", str(LOCAL_SLURM), "start", str(folder)], capture_output=True, text=True)
    try:
        assert started.returncode == 0, f"the test cluster did not start: {started.stderr}"
        monkeypatch.setenv("SLURM_CONF", str(folder / "slurm.conf"))
        yield folder
    finally:
        subprocess.run(["bash", str(LOCAL_SLURM), "stop", str(folder)], check=False)


def test_sweep_through_slurm_equals_the_local_executor(sweep_env, slurm_cluster, capsys, monkeypatch) -> None:
    Path(os.environ["PRUNELIB_PROFILES"]).write_text(LIGHT)  # what is compared is the executor, not the stages
    code, local_out = run_sweep(sweep_env, capsys, "--executor", "local", "--seeds", "0,1", "--parallel", "2")
    assert code == 0, local_out
    local = read_rows(sweep_env["root"] / "results" / "tiny" / "summary.csv")

    # the same sweep into fresh folders, through SLURM
    for name, sub in (("PRUNELIB_RESULTS", "results-slurm"), ("PRUNELIB_CHECKPOINTS", "checkpoints-slurm"),
                      ("PRUNELIB_LOGS", "logs-slurm")):
        monkeypatch.setenv(name, str(sweep_env["root"] / sub))
    code, out = run_sweep(sweep_env, capsys, "--seeds", "0,1")  # auto: sbatch is on the PATH
    assert code == 0, out
    assert out.count("submitted (slurm job") == 2 and out.count("DONE") == 2
    for log in sweep_env["root"].joinpath("logs-slurm").rglob("*_log.out"):
        text = log.read_text()
        assert "SLURM job" in text and "no SLURM" not in text, log  # every job ran under SLURM
    slurm = read_rows(sweep_env["root"] / "results-slurm" / "tiny" / "summary.csv")
    assert slurm == local  # the same numbers, to the last printed digit


def _one_gpu():
    import importlib.util
    spec = importlib.util.spec_from_file_location("one_gpu", Path(__file__).parents[1] / "tools" / "one_gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_several_jobs_at_once_stop_at_the_deadline_and_resume(sweep_env, capsys) -> None:
    """tools/one_gpu.py: a typo is refused before any work; jobs still running at the deadline are stopped with
    what they finished kept, and the same command resumes them to complete results and a summary."""
    (sweep_env["root"] / "profiles.yaml").write_text(LIGHT)  # what is tested is the bookkeeping
    tool, jobs = _one_gpu(), ["tiny:0:global", "tiny:1:global"]
    with pytest.raises(SystemExit):
        tool.main(["--data", sweep_env["data"], "tiny:0:globl"])
    assert "unknown regime 'globl'" in capsys.readouterr().err
    assert tool.main(["--data", sweep_env["data"], "--parallel", "2", "--deadline", "2", "--no-summary", *jobs]) == 0
    results = sweep_env["root"] / "results" / "tiny"
    assert "deadline: stopping tiny:0:global" in capsys.readouterr().out
    assert not any(json.loads(f.read_text())["complete"] for f in results.glob("runs/*.json"))
    assert tool.main(["--data", sweep_env["data"], "--parallel", "2", "--deadline", "900", *jobs]) == 0
    assert all(json.loads((results / "runs" / f"global-seed{s}.json").read_text())["complete"] for s in (0, 1))
    assert {r["seed"] for r in read_rows(results / "summary.csv")} == {"0", "1"}
