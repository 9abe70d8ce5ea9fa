"""The units in the order one machine runs them, what each costs there, the unit to run next, and
``tools/study.sh``, which runs them one by one and commits each unit's results as soon as it is measured."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from prunelib.sweep.units import Unit, add_hours_here, next_unit, none_fits, one_machine_order, schedule, without

ROOT = Path(__file__).resolve().parents[1]
STUDY = [(0, "authors_code"), (1, "authors_code"), (0, "authors_masked"), (1, "authors_masked"), (2, "global")]


def row(seed: int, regime: str, part: str, hours: float | None = 1.0, waits: tuple[str, ...] = ()) -> dict:
    return {"unit": Unit("p", seed, regime, part), "hours": hours, "waits": list(waits), "ready": not waits,
            "remakes": False}


def study_rows() -> list[dict]:
    """Units left of ``STUDY`` in the study's order (as :func:`prunelib.sweep.units.plan` finds them)."""
    return [row(0, "authors_code", "dense", 1.5), row(0, "authors_code", "round1", 1.0, ("authors_code-seed0-dense",)),
            row(1, "authors_code", "round2", 1.0),  # its dense network and round 1 measured, the state in git
            row(0, "authors_masked", "dense", 1.5),
            row(0, "authors_masked", "round1", 1.0, ("authors_masked-seed0-dense",)),
            row(1, "authors_masked", "dense", 1.5), row(2, "global", "job", 1.8)]


def names(rows: list[dict]) -> list[str]:
    return [r["unit"].name for r in rows]


def test_one_machine_runs_seed_by_seed_the_dense_makers_first() -> None:
    ordered = one_machine_order(study_rows(), STUDY)
    assert names(ordered) == ["authors_code-seed0-dense", "authors_masked-seed0-dense", "authors_code-seed0-round1",
                              "authors_masked-seed0-round1", "authors_masked-seed1-dense", "authors_code-seed1-round2",
                              "global-seed2"]
    place = {name: i for i, name in enumerate(names(ordered))}
    assert all(place[w] < place[r["unit"].name] for r in ordered for w in r["waits"])


def test_a_seed_s_dense_network_is_trained_once_on_one_machine() -> None:
    rows = add_hours_here(one_machine_order(study_rows(), STUDY), dense_training=1.2, dense_here={1})
    said = {r["unit"].name: (r["hours_here"], r["dense_by"]) for r in rows}
    assert said == {"authors_code-seed0-dense": (1.5, None),
                    "authors_masked-seed0-dense": (0.3, "authors_code-seed0-dense"),  # measured only
                    "authors_code-seed0-round1": (1.0, None), "authors_masked-seed0-round1": (1.0, None),
                    "authors_masked-seed1-dense": (0.3, None),  # its checkpoint is on this machine
                    "authors_code-seed1-round2": (1.0, None), "global-seed2": (1.8, None)}
    assert add_hours_here([row(0, "global", "job", None)], 1.2, {0})[0]["hours_here"] is None  # not timed
    assert add_hours_here([row(0, "global", "job", 1.8)], None, {0})[0]["hours_here"] == 1.8  # no dense timed


def test_the_next_unit_is_the_first_ready_one_that_fits() -> None:
    rows = add_hours_here(one_machine_order(study_rows(), STUDY), dense_training=1.2, dense_here={1})
    assert next_unit(rows).name == "authors_code-seed0-dense"
    assert next_unit(rows, 1.5).name == "authors_code-seed0-dense"
    # authors_masked-seed0-dense counts on the unit before it: run alone it trains the dense network (1.5 h)
    assert next_unit(rows, 1.4).name == "authors_masked-seed1-dense"
    assert next_unit(rows, 0.2) is None
    assert none_fits("p", rows, 0.2) == ("none of the units that can start here fits in 0.2 h; the smallest, "
                                         "authors_masked-seed1-dense, needs ~0.30 h")
    untimed = [row(0, "global", "job", None) | {"hours_here": None, "dense_by": None}]
    assert next_unit(untimed).name == "global-seed0" and next_unit(untimed, 9.0) is None
    assert "none of the 1 units that can start here is timed yet" in none_fits("p", untimed, 9.0)
    waiting = [r for r in rows if not r["ready"]]
    assert next_unit(waiting) is None and none_fits("p", waiting, None).startswith(
        "none of the 2 units left on the p profile can start here")
    assert none_fits("p", [], None) == "no unit left on the p profile"


def test_a_unit_that_makes_again_a_network_another_kind_of_machine_trained_is_not_started_here() -> None:
    xeon = "Intel(R) Xeon(R) Processor (amx_bf16, avx512_bf16)"
    rows = add_hours_here(one_machine_order(study_rows(), STUDY), dense_training=1.2, dense_here={1})
    rows = [r | {"other_machine": xeon if r["unit"].seed == 0 else None} for r in rows]
    assert next_unit(rows).name == "authors_masked-seed1-dense"
    assert [u.name for u, _ in schedule(rows)] == ["authors_masked-seed1-dense", "authors_code-seed1-round2",
                                                   "global-seed2"]
    seed0 = [r for r in rows if r["unit"].seed == 0]
    assert next_unit(seed0) is None
    assert none_fits("p", seed0, None) == (
        "none of the 4 units left on the p profile can start here: those whose state git holds make again networks "
        f"another kind of machine trained (first authors_code-seed0-dense: {xeon})")


def test_a_schedule_runs_units_in_turn_within_the_hours() -> None:
    rows = add_hours_here(one_machine_order(study_rows(), STUDY), dense_training=1.2, dense_here={1})
    assert [(u.name, h) for u, h in schedule(rows, 3.2)] == [
        ("authors_code-seed0-dense", 1.5), ("authors_masked-seed0-dense", 0.3), ("authors_code-seed0-round1", 1.0),
        ("authors_masked-seed1-dense", 0.3)]  # round1 of authors_masked (1.0 h) no longer fits in the 0.4 h left
    assert len(schedule(rows)) == len(rows)  # no limit: every unit, each after those it waits for


def test_next_unit_on_the_command_line(sweep_env, capsys) -> None:
    from tiny_sweep import LIGHT, run_sweep
    (sweep_env["root"] / "profiles.yaml").write_text(LIGHT + '  study: "0: lottery"\n')
    assert run_sweep(sweep_env, capsys, "--next-unit") == (0, "lottery-seed0-dense\n")  # not timed: no limit given
    code, out = run_sweep(sweep_env, capsys, "--next-unit", "--hours-left", "5")
    assert code == 3 and out == ("python -m prunelib sweep --next-unit: none of the 1 units that can start here is "
                                 "timed yet, so none is known to fit in 5 h; without --hours-left, lottery-seed0-dense "
                                 "would run\n")
    code, out = run_sweep(sweep_env, capsys, "--hours-left", "5")
    assert code == 2 and "--hours-left, --skip and --schedule go with --next-unit" in out
    code, out = run_sweep(sweep_env, capsys, "--next-unit", "--skip", "lottery-seed0-dense")
    assert code == 3 and out == ("python -m prunelib sweep --next-unit: no unit left on the tiny profile (skipped: "
                                 "lottery-seed0-dense, and the units that wait for them)\n")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def study(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``tools/study.sh`` of the clone ``root``, with prunelib from this checkout."""
    return subprocess.run(["bash", str(root / "tools/study.sh"), *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PY": sys.executable, "PYTHONPATH": str(ROOT), "PROFILES": "tiny", **env})


def test_the_runner_commits_each_unit_as_it_is_measured(sweep_env, monkeypatch, tmp_path) -> None:
    """A clone whose seed 1 is measured by authors_code (what times the units of seed 0): the runner runs seed 0's two
    units, each committed alone with its results (the first although the aggregation after it fails, and then it
    stops); authors_masked-seed1-dense must make the dense network authors_code-seed1 measured, whose recorded first
    epoch is doctored here: it is skipped (exit 4), with the round that waits for it, and the runner goes on."""
    from prunelib.sweep.job import run_job
    from prunelib.sweep.records import Job
    from tiny_sweep import LIGHT

    root = sweep_env["root"]
    (root / "profiles.yaml").write_text(LIGHT + '  study: "0,1: authors_code; 1: authors_masked"\n')
    monkeypatch.setenv("PRUNELIB_DATA", sweep_env["data"])
    run_job(Job("tiny", 1, "authors_code", data=sweep_env["data"]), progress=False)
    measured = root / "results/tiny/runs/authors_code-seed1.json"
    done = json.loads(measured.read_text())
    dense = done["networks"][0]
    dense["history"][0]["val_top1"] += 0.1
    measured.write_text(json.dumps(done))
    (root / "tools").mkdir()
    shutil.copy(ROOT / "tools/study.sh", root / "tools/study.sh")
    shutil.copy(ROOT / ".gitignore", root / ".gitignore")
    git(root, "init", "-q")
    git(root, "config", "user.email", "runner@example.org")
    git(root, "config", "user.name", "runner")
    git(root, "add", "results", ".gitignore", "tools")
    git(root, "commit", "-q", "-m", "seed 1 measured")

    dry = study(root, "1", DRY_RUN="1")
    assert dry.returncode == 0 and [line.split("\t")[0].strip() for line in dry.stdout.splitlines()[1:]] == [
        "authors_code-seed0-dense", "authors_code-seed0-round1", "authors_masked-seed1-dense",
        "authors_masked-seed1-round1"]
    assert git(root, "log", "--format=%s") == "seed 1 measured\n"  # a dry run runs and commits nothing

    failed = study(root, "1", PRUNELIB_DATA=str(root / "no-data-here"))  # the unit fails: nothing committed, stop
    assert failed.returncode == 2 and "unit authors_code-seed0-dense FAILED (exit 2)" in failed.stdout
    assert git(root, "log", "--format=%s") == "seed 1 measured\n" and "round1" not in failed.stdout

    python = tmp_path / "python"  # whose aggregation fails
    python.write_text(f'#!/bin/sh\ncase " $* " in *" --summary-only "*) exit 2 ;; esac\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    unaggregated = study(root, "1", PY=str(python))
    assert unaggregated.returncode == 1 and "the aggregation after unit authors_code-seed0-dense FAILED (its " \
                                            "results are committed); stopping" in unaggregated.stdout
    assert git(root, "log", "-1", "--format=%s").endswith("h; the aggregation after it failed\n")

    run = study(root, "1")
    assert run.returncode == 0, run.stdout + run.stderr
    log = git(root, "log", "--format=%H %s").splitlines()[:-1][::-1]
    assert [line.split(" ", 1)[1].split(": measured on ")[0] for line in log] == [
        "Unit authors_code-seed0-dense (profile tiny)", "Unit authors_code-seed0-round1 (profile tiny)"]
    assert all(" measured on " in line and " h" in line for line in log)
    dense, round1 = (set(git(root, "show", "--format=", "--name-only", line.split()[0]).split()) for line in log)
    assert {"results/tiny/runs/authors_code-seed0.json", "results/tiny/state/seed0/authors_code/round_1.bin"} <= dense
    assert {"results/tiny/runs/authors_code-seed0.json", "results/tiny/summary.csv"} <= round1
    assert all(path.startswith("results/tiny/") for path in dense | round1)  # results alone, no checkpoint
    assert git(root, "status", "--porcelain", "--", "results") == ""
    assert "unit authors_masked-seed1-dense is not reproduced on this machine" in run.stdout
    assert "python -m prunelib sweep: not reproduced: " in run.stderr and "epoch 1 reaches" in run.stderr
    assert ("no unit left on the tiny profile (skipped: authors_masked-seed1-dense, and the units that wait for them)"
            in run.stderr) and run.stdout.splitlines()[-1].endswith("h left")


def test_the_runner_runs_no_unit_not_timed_nor_on_results_git_lacks(sweep_env, monkeypatch) -> None:
    root = sweep_env["root"]
    from tiny_sweep import LIGHT
    (root / "profiles.yaml").write_text(LIGHT + '  study: "0: global"\n')
    monkeypatch.setenv("PRUNELIB_DATA", str(root / "no-data-here"))
    (root / "tools").mkdir()
    shutil.copy(ROOT / "tools/study.sh", root / "tools/study.sh")
    git(root, "init", "-q")
    no_identity = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    refused = study(root, **no_identity)  # no commit could be made: refused before any work
    assert refused.returncode == 2 and "git has no user.name or user.email here" in refused.stderr
    git(root, "config", "user.email", "r@example.org")
    git(root, "config", "user.name", "r")
    git(root, "commit", "-q", "--allow-empty", "-m", "start")
    run = study(root, **no_identity)  # global-seed0 is not timed: it fits only without a limit, so none is run
    assert run.returncode == 0 and "none of the 1 units that can start here is timed yet" in run.stderr
    (root / "results/tiny/runs").mkdir(parents=True)
    (root / "results/tiny/runs/x.json").write_text("{}")
    refused = study(root)
    assert refused.returncode == 2 and "results/ has changes git does not hold" in refused.stderr


def test_skipped_units_and_those_waiting_for_them_are_left_out() -> None:
    rows = add_hours_here(one_machine_order(study_rows(), STUDY), dense_training=1.2, dense_here={1})
    assert next_unit(without(rows, ["authors_code-seed0-dense"])).name == "authors_masked-seed0-dense"
    assert [u.name for u, _ in schedule(without(rows, ["authors_code-seed0-dense", "authors_masked-seed1-dense"]))] == [
        "authors_masked-seed0-dense", "authors_masked-seed0-round1", "authors_code-seed1-round2", "global-seed2"]
    chained = [row(0, "lottery", "dense"), row(0, "lottery", "round1", waits=("lottery-seed0-dense",)),
               row(0, "lottery", "round2", waits=("lottery-seed0-round1",)), row(1, "lottery", "dense")]
    assert [r["unit"].name for r in without(chained, ["lottery-seed0-dense"])] == ["lottery-seed1-dense"]
    assert next_unit(without(chained, ["lottery-seed0-dense", "lottery-seed1-dense"])) is None


def test_a_clean_clone_gets_its_virtual_environment_first(sweep_env, tmp_path) -> None:
    """Started in a clean clone (no .venv), the runner makes it (`make .venv/.installed`, here a stand-in that links
    this python) before it asks for a unit; a PY given that is no python is refused."""
    root = sweep_env["root"]
    from tiny_sweep import LIGHT
    (root / "profiles.yaml").write_text(LIGHT + '  study: "0: global"\n')
    (root / "tools").mkdir()
    shutil.copy(ROOT / "tools/study.sh", root / "tools/study.sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text(f"#!/bin/sh\necho \"$@\" > made\nmkdir -p .venv/bin\n"
                                  f"ln -s {sys.executable} .venv/bin/python\ntouch .venv/.installed\n")
    (bin_dir / "make").chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    run = study(root, PY=".venv/bin/python", PATH=path, DRY_RUN="1")
    assert run.returncode == 0, run.stderr
    assert (root / "made").read_text().split() == ["-s", ".venv/.installed"] and "no .venv here" in run.stdout
    refused = study(root, PY=str(root / "no-python"), DRY_RUN="1")
    assert refused.returncode == 2 and "is not an executable python" in refused.stderr
