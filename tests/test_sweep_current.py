"""The sweep cannot lie: "current" means the same inputs, paths resolve against the project, jobs never hang,
concurrent jobs take turns, aggregation checks every file, and bad input is one line before any work.
One test (or more) per defect of the issue that asked for it; each failed on the code before it."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from prunelib import checkpoint, currency, paths, pipeline, runs
from prunelib.__main__ import main as cli
from prunelib.sweep.aggregate import aggregate
from prunelib.sweep import executors
from prunelib.sweep import runner
from prunelib.sweep.job import run_job
from prunelib.sweep.records import Job, read_result, stale
from prunelib.synthetic import make_imagenette

from tiny_sweep import LIGHT


FOLDERS = (("PRUNELIB_PROFILES", "profiles.yaml"), ("PRUNELIB_RESULTS", "results"),
           ("PRUNELIB_CHECKPOINTS", "checkpoints"), ("PRUNELIB_LOGS", "logs"))


def _project(root: Path, monkeypatch: pytest.MonkeyPatch, synthetic_root: Path) -> dict:
    """The tiny profile with its own profiles, results, checkpoints and logs folders under ``root``."""
    profiles = root / "profiles.yaml"
    profiles.write_text(LIGHT)  # what is tested is the bookkeeping
    for name, sub in FOLDERS:
        monkeypatch.setenv(name, str(root / sub))
    job = Job("tiny", 0, "global", data=paths.portable(synthetic_root), threads=1)
    return {"root": root, "job": job, "profiles": profiles, "data": synthetic_root}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthetic_root: Path) -> dict:
    """The tiny profile with its own folders; nothing run yet."""
    return _project(tmp_path, monkeypatch, synthetic_root)


@pytest.fixture(scope="module")
def finished_once(tmp_path_factory: pytest.TempPathFactory, synthetic_root: Path) -> Iterator[Path]:
    """One job of the tiny profile, run in this process and aggregated, once for the module (~10 s, mostly ROAD),
    and kept aside as it was: each test that starts from it gets it back in the same place, since the job's files
    record where its checkpoints are. Removed when the module is done (its checkpoints take a gigabyte)."""
    root = tmp_path_factory.mktemp("finished")
    with pytest.MonkeyPatch.context() as monkeypatch:
        (root / "project").mkdir()
        job = _project(root / "project", monkeypatch, synthetic_root)["job"]
        run_job(job, progress=False)
        assert aggregate("tiny", job.data, print) == []
    shutil.copytree(root / "project", root / "as-finished")
    yield root
    shutil.rmtree(root)


@pytest.fixture
def finished(finished_once: Path, monkeypatch: pytest.MonkeyPatch, synthetic_root: Path) -> dict:
    """The finished job's folders as the job left them, for this test to change as it likes."""
    shutil.rmtree(finished_once / "project")
    shutil.copytree(finished_once / "as-finished", finished_once / "project")
    return _project(finished_once / "project", monkeypatch, synthetic_root)


# 1. stale numbers reported as current ----------------------------------------------------------------------
def test_a_result_of_other_inputs_is_not_current(finished) -> None:
    job, profiles = finished["job"], finished["profiles"]
    assert runner.is_done(job)
    done = json.loads(job.result_file.read_text())
    profiles.write_text(profiles.read_text().replace("epochs: 1", "epochs: 2"))  # a recipe setting
    assert not runner.is_done(job) and any("params.epochs: was 1, now 2" in why for why in stale(job, done))
    profiles.write_text(profiles.read_text().replace("epochs: 2", "epochs: 1"))
    other = make_imagenette(finished["root"] / "other-data", n_train=4, n_val=2, size=32, seed=1)
    moved = Job(job.profile, job.seed, job.regime, data=str(other))
    assert not runner.is_done(moved) and any(why.startswith("data.train") for why in stale(moved, done))
    # one regime's result copied over another's: its own inputs name the other job
    lottery = Job(job.profile, job.seed, "lottery", data=job.data)
    shutil.copy(job.result_file, lottery.result_file)
    assert not runner.is_done(lottery)
    with pytest.raises(ValueError, match="not what its place says .*copied or renamed"):
        read_result(lottery.result_file, "tiny")


# 4. a swapped checkpoint is measured ----------------------------------------------------------------------
def test_a_swapped_checkpoint_is_refused_with_its_name(finished) -> None:
    job = finished["job"]
    level = job.checkpoints / "global" / "level_50" / "final.pt"
    shutil.copy(job.checkpoints / "dense" / "best.pt", level)  # another network, run.json kept
    assert not runner.is_done(job)
    assert any("level_50/final.pt.checkpoint_sha256: was" in why
               for why in stale(job, json.loads(job.result_file.read_text())))
    with pytest.raises(ValueError, match=r"level_50/final.pt is not the file written there .*replaced"):
        checkpoint.load(level)
    shutil.copy(job.checkpoints / "dense" / "init.pt", job.checkpoints / "dense" / "best.pt")
    with pytest.raises(ValueError, match=r"dense/best.pt is not the file written there"):
        checkpoint.load(job.checkpoints / "dense" / "best.pt")


def test_a_checkpoint_verifies_at_every_moment_of_its_rewriting(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    checkpoint.save({"x": 1}, path)
    checkpoint.save({"x": 2}, path)
    checkpoint.verify(path)
    digests = json.loads((tmp_path / checkpoint.DIGESTS).read_text())
    assert digests == {"last.pt": [checkpoint.file_sha256(path)]}
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


# 2. paths resolve against the working folder first ------------------------------------------------------
def test_recorded_paths_resolve_against_the_project_not_the_working_folder(tmp_path, monkeypatch) -> None:
    (tmp_path / "checkpoints").mkdir()
    monkeypatch.chdir(tmp_path)  # a folder holding a checkpoints/ of the same relative name
    assert paths.resolve("checkpoints/noise") == paths.ROOT / "checkpoints" / "noise"
    assert paths.resolve(tmp_path / "x") == tmp_path / "x"
    assert paths.from_user("checkpoints") == tmp_path / "checkpoints"


def test_a_checkpoints_folder_linked_to_scratch_space_is_recorded_by_its_project_name(tmp_path, monkeypatch) -> None:
    """`checkpoints` may be a link to a disk outside the clone (kept when the clone is replaced); the results then
    still say `checkpoints/...`, never a folder of the machine."""
    project, scratch = tmp_path / "project", tmp_path / "scratch"
    (scratch / "noise").mkdir(parents=True)
    project.mkdir()
    (project / "checkpoints").symlink_to(scratch, target_is_directory=True)
    monkeypatch.setattr(paths, "ROOT", project)
    assert paths.portable(project / "checkpoints" / "noise" / "best.pt") == "checkpoints/noise/best.pt"
    assert paths.resolve("checkpoints/noise").resolve() == scratch / "noise"
    assert paths.portable(tmp_path / "shared" / "data") == "../shared/data"


# 5. a killed job hangs the sweep ---------------------------------------------------------------------------
def test_a_local_job_killed_without_a_result_is_reported_failed(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    process.wait()
    log = tmp_path / "job_log.out"
    log.write_text("training...\n")
    handle = SimpleNamespace(_process=process, job_id="1",
                             paths=SimpleNamespace(result_pickle=tmp_path / "none.pkl", stdout=log))
    assert executors._finished(handle, "local")
    lines: list[str] = []
    assert executors._report(Job("tiny", 0, "global"), handle, lines.append) == ["global-seed0"]
    assert "FAILED (the job's process ended without a result: killed by signal 9" in lines[0]
    assert str(log) in lines[0]
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not executors._finished(SimpleNamespace(_process=running, paths=handle.paths), "local")
    finally:
        running.kill()


# 6. concurrent jobs collide ----------------------------------------------------------------------------------
_WRITER = """
import sys
from prunelib import checkpoint
for i in range(40):
    checkpoint.save({"i": i}, sys.argv[1])
    checkpoint.save_json({"i": i}, sys.argv[2])
"""


def test_two_processes_writing_one_folder_never_collide(tmp_path: Path) -> None:
    args = [sys.executable, "-c", _WRITER, str(tmp_path / "last.pt"), str(tmp_path / "history.json")]
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    checkpoint.load(tmp_path / "last.pt")


_HOLDER = """
import sys, time
from prunelib import runs
with runs.locked(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(30)
"""


def test_a_folder_in_use_makes_a_second_job_wait_or_refuse(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path / "dense")], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(runs.Busy, match=f"{tmp_path / 'dense'} is in use by process {holder.pid}"):
            with runs.locked(tmp_path / "dense", wait=False):
                pass
    finally:
        holder.kill()
        holder.wait()
    with runs.locked(tmp_path / "dense", wait=False):  # the lock died with its process
        pass


def test_a_second_copy_of_a_running_job_refuses_to_start(finished, monkeypatch) -> None:
    job = finished["job"]
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(job.lock_folder)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert f"process {holder.pid}" in runner._running_elsewhere(job)
        with pytest.raises(runs.Busy):
            run_job(job, progress=False)
    finally:
        holder.kill()
        holder.wait()


# 7. aggregation trusts every file ---------------------------------------------------------------------------
@pytest.mark.parametrize("content, expected", [("{\"networks\": [", "is not a readable result file"),
                                               ("{}", "is not a job's result file"),
                                               ("[1, 2]", "is not a job's result file")])
def test_a_broken_result_file_is_named_and_rewritten(finished, capsys, content, expected) -> None:
    job = finished["job"]
    summary = job.result_file.parent.parent / "summary.csv"
    before = summary.read_text()
    good = job.result_file.read_text()
    job.result_file.write_text(content)
    lines: list[str] = []
    assert aggregate("tiny", job.data, lines.append) == ["aggregation"]
    assert expected in lines[-1] and str(job.result_file) in lines[-1] and "left as they were" in lines[-1]
    assert summary.read_text() == before
    assert not runner.is_done(job)
    run_job(job, progress=False)  # the job measures again and rewrites it
    again = json.loads(job.result_file.read_text())["networks"]
    assert [n["methods"] for n in again] == [n["methods"] for n in json.loads(good)["networks"]]


def test_aggregation_leaves_out_a_stale_file_and_says_why(finished) -> None:
    job, profiles = finished["job"], finished["profiles"]
    profiles.write_text(profiles.read_text().replace("ig_steps: 2", "ig_steps: 3"))
    lines: list[str] = []
    assert aggregate("tiny", job.data, lines.append) == []
    assert any("left out of the summary" in line and "ig_steps" in line for line in lines)
    assert "no current result file" in lines[-1]


def test_aggregation_keeps_a_file_whose_network_was_trained_again_here_and_says_so(finished) -> None:
    """A seed's dense network trained again (another machine, another CPU: other last bits) makes its other jobs'
    files not current, so the sweep runs them again; until then they still measure the networks they name, and the
    summary keeps them."""
    job = finished["job"]
    summary = paths.results_dir("tiny") / "summary.csv"
    before = summary.read_text()
    best = job.checkpoints / "dense" / "best.pt"
    state = checkpoint.load(best)
    checkpoint.save({**state, "epoch": state.get("epoch", 0) + 1}, best)  # another realization, same inputs
    assert not runner.is_done(job)
    summary.unlink()
    lines: list[str] = []
    assert aggregate("tiny", job.data, lines.append) == []
    assert any("kept, though" in line and "dense/best.pt.checkpoint_sha256: was" in line for line in lines)
    assert summary.read_text() == before


# 8. late errors and raw tracebacks ------------------------------------------------------------------------------
@pytest.mark.parametrize("edit, expected", [
    (("methods: \"VG\"", "methods: \"VG,XX\""), "setting 'methods' must be comma-separated saliency methods"),
    (("road_precision: fp32", "road_precision: fp8"), "setting 'road_precision' must be fp32 or bf16, got 'fp8'"),
    (("seed: 0", "seed: 0\n  sed: 1"), "has an unknown setting 'sed'"),
    (("tiny:", "tiny: ["), "is not valid YAML at line "),
    (("tiny:", "tiny: !!python/object/apply:os.system ['true']\nx:"), "is not valid YAML"),
])
def test_a_bad_profile_is_one_line_before_any_work(project, capsys, edit, expected) -> None:
    finished = project
    profiles = finished["profiles"]
    profiles.write_text(profiles.read_text().replace(*edit, 1))
    shutil.rmtree(finished["root"] / "logs", ignore_errors=True)
    with pytest.raises(SystemExit) as stop:
        cli(["sweep", "--profile", "tiny", "--data", str(finished["data"])])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and expected in err and err.count("\n") == 1, err
    assert not (finished["root"] / "logs").exists()


def test_a_regime_the_profile_cannot_run_is_one_line_before_any_work(project, capsys) -> None:
    profiles = project["profiles"]
    profiles.write_text(profiles.read_text().replace('  levels: "50"\n', ""))
    assert cli(["sweep", "--profile", "tiny", "--regimes", "global", "--data", str(project["data"])]) == 2
    err = capsys.readouterr().err
    assert "regime 'global' needs the profile setting(s) levels" in err and err.count("\n") == 1, err
    assert not (project["root"] / "checkpoints").exists()


def test_a_profiles_file_that_is_not_a_mapping_is_one_line(project, capsys) -> None:
    finished = project
    finished["profiles"].write_text("- tiny\n")
    with pytest.raises(SystemExit):
        cli(["sweep", "--profile", "tiny"])
    err = capsys.readouterr().err
    assert "must be a mapping of profile names to settings, got list" in err and err.count("\n") == 1


def test_ctrl_c_is_one_line(monkeypatch, capsys) -> None:
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr("prunelib.__main__._dispatch", interrupted)
    assert cli(["sweep", "--profile", "smoke"]) == 130
    err = capsys.readouterr().err
    assert "interrupted; what finished is kept" in err and err.count("\n") == 1


def test_a_run_json_that_is_a_list_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("[1, 2]")
    with pytest.raises(runs.RunMismatch, match="run.json is not a run's identity"):
        runs.claim(tmp_path, {"data": {}})


def test_an_unwritable_logs_folder_is_one_line_before_any_work(project, capsys, monkeypatch) -> None:
    finished = project
    blocker = finished["root"] / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("PRUNELIB_LOGS", str(blocker / "logs"))
    assert cli(["sweep", "--profile", "tiny", "--data", str(finished["data"])]) == 2
    err = capsys.readouterr().err
    assert "cannot write the logs folder" in err and err.count("\n") == 1


# 9. a lost machine loses the measurements of a job that did not finish ------------------------------------------
def test_the_same_weights_give_the_same_checkpoint_bytes_under_any_name(tmp_path: Path) -> None:
    """A network retrained to the same weights (same inputs, same kind of CPU) gets the digest its results
    recorded, wherever and whenever it is saved: torch.save names the archive after the file unless given a
    handle."""
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "epoch": 3}
    checkpoint.save(state, tmp_path / "a" / "best.pt")
    checkpoint.save(state, tmp_path / "b" / "final.pt")
    assert checkpoint.file_sha256(tmp_path / "a" / "best.pt") == checkpoint.file_sha256(tmp_path / "b" / "final.pt")
    checkpoint.save({**state, "epoch": 4}, tmp_path / "b" / "final.pt")
    assert checkpoint.file_sha256(tmp_path / "a" / "best.pt") != checkpoint.file_sha256(tmp_path / "b" / "final.pt")


def test_a_job_killed_after_its_dense_network_keeps_that_measurement(project, monkeypatch) -> None:
    job = project["job"]

    def killed(*args, **kwargs):
        raise RuntimeError("killed while pruning")

    monkeypatch.setattr(pipeline, "prune_dense", killed)
    with pytest.raises(RuntimeError, match="killed while pruning"):
        run_job(job, progress=False)
    partial = json.loads(job.result_file.read_text())
    assert partial["complete"] is False and [n["network"] for n in partial["networks"]] == ["dense"]
    assert not runner.is_done(job) and stale(job, partial) == []
    lines: list[str] = []
    assert aggregate("tiny", job.data, lines.append) == []  # the summary shows what is measured so far
    rows = list(csv.DictReader(open(paths.results_dir("tiny") / "summary.csv")))
    assert {r["network"] for r in rows} == {"dense"} and any(r["metric"] == "gini_vg" for r in rows)

    monkeypatch.undo()
    project_env(monkeypatch, project)
    run_job(job, progress=False)  # resumes: the dense network is not measured again
    whole = json.loads(job.result_file.read_text())
    assert whole["complete"] is True and runner.is_done(job)
    assert [n["network"] for n in whole["networks"]] == ["dense", "pruned"]
    assert whole["networks"][0] == partial["networks"][0]

    # its maps gone (another machine): measured again, to the same values, and the rest with it
    for maps in job.checkpoints.glob("**/maps-*.pt"):
        maps.unlink()
    job.result_file.write_text(json.dumps({**whole, "complete": False}))
    run_job(job, progress=False)
    again = json.loads(job.result_file.read_text())
    assert again["networks"][0]["measure_seconds"] != whole["networks"][0]["measure_seconds"]
    assert [n["methods"] for n in again["networks"]] == [n["methods"] for n in whole["networks"]]


def project_env(monkeypatch: pytest.MonkeyPatch, project: dict) -> None:
    """The project fixture's folders again (after ``monkeypatch.undo()``)."""
    root = project["root"]
    for name, sub in (("PRUNELIB_PROFILES", "profiles.yaml"), ("PRUNELIB_RESULTS", "results"),
                      ("PRUNELIB_CHECKPOINTS", "checkpoints"), ("PRUNELIB_LOGS", "logs")):
        monkeypatch.setenv(name, str(root / sub))


def test_stopping_a_local_sweep_stops_its_running_job(project) -> None:
    """`kill` (SIGTERM) of a sweep stops the job it runs: a local submitit job ignores SIGTERM, and one left running
    would train beside the next sweep's (two heavy processes on the same cores)."""
    import signal
    import time
    profiles = project["profiles"]
    profiles.write_text(profiles.read_text().replace("epochs: 1", "epochs: 5000"))  # a job that would not end
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT), "OMP_NUM_THREADS": "1"}
    # as `nohup ... &` starts it: Ctrl-C (SIGINT) ignored, which its jobs inherit
    sweep = subprocess.Popen([sys.executable, "-m", "prunelib", "sweep", "--profile", "tiny", "--seeds", "0",
                              "--regimes", "global", "--executor", "local", "--data", str(project["data"])],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        for line in sweep.stdout:
            if "RUNNING (local job" in line:
                break
        job_pid = int(line.split("local job ")[1].split(",")[0])
        deadline = time.time() + 120
        while not (project["job"].checkpoints / "dense" / "run.json").is_file() and time.time() < deadline:
            time.sleep(0.5)  # the job is training
        sweep.send_signal(signal.SIGTERM)
        out = sweep.communicate(timeout=60)[0]
    finally:
        sweep.kill()
    assert sweep.returncode == 130 and "STOPPED with the sweep" in out and "interrupted" in out, out
    assert not _alive(job_pid)
    leftovers = subprocess.run(["pgrep", "-f", f"submitit.* {project['root']}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", leftovers.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.is_file() and "zombie" not in status.read_text()


def test_the_seeds_dense_network_is_measured_once_for_all_its_jobs(finished) -> None:
    job = finished["job"]
    lottery = Job(job.profile, job.seed, "lottery", data=job.data, threads=1)
    run_job(lottery, progress=False)
    dense = [json.loads(j.result_file.read_text())["networks"][0] for j in (job, lottery)]
    assert dense[0]["network"] == "dense" and dense[0] == dense[1]  # measure_seconds included: not measured again


def test_a_job_outdated_by_an_earlier_job_of_the_sweep_runs_again(finished) -> None:
    """A job done when the sweep starts, measured with a dense network that is gone from this machine, is outdated
    once an earlier job of the same sweep trains that dense network anew: it runs in the same sweep, also when its
    turn came while the earlier job was still running (two jobs at a time)."""
    job = finished["job"]
    done = json.loads(job.result_file.read_text())
    done["networks"][0]["checkpoint_sha256"] = "0" * 64  # measured with a dense network trained elsewhere
    job.result_file.write_text(json.dumps(done))
    shutil.rmtree(job.checkpoints)  # ... and gone from this machine: current as far as it can tell
    assert runner.is_done(job)
    lines: list[str] = []
    code = runner.run_sweep("tiny", [0], ["lottery", "global"], data=job.data, executor="local", cpus_per_job=1,
                            poll_s=0.5, echo=lines.append, parallel=2)
    said = "\n".join(lines)
    assert code == 0 and "[global-seed0] done earlier, skipped" in said, said
    assert "[global-seed0] outdated by an earlier job of this sweep: running it again" in said
    assert runner.is_done(job) and json.loads(job.result_file.read_text())["networks"][0]["checkpoint_sha256"] != "0" * 64


def test_derived_files_name_the_weights_not_only_the_inputs() -> None:
    """Concepts, pictures and baselines are current for the networks they were made from: the same identity with
    another checkpoint digest (the same inputs trained on another machine) is another network; a record of before
    digests were kept is matched by identity."""
    a = {"identity": "i0", "checkpoint_sha256": "a" * 64}
    retrained = {"identity": "i0", "checkpoint_sha256": "b" * 64}

    def current(recorded: list[dict], now: list[dict]) -> bool:
        return not currency.why_stale({"networks": currency.networks(recorded, like=recorded)},
                                      {"networks": currency.networks(now, like=recorded)})

    assert current([a], [dict(a)]) and not current([a], [retrained])
    assert current([{"identity": "i0"}], [retrained])  # an old record: identity only
    assert not current([a], [a, retrained]) and not current([{"identity": "i1"}], [a])
    assert runs.network_key(a) != runs.network_key(retrained)
