"""The Makefile's own logic: `make book` rebuilds every page when only the book's static files (its CSS) changed;
`make test` spreads the suite over the cores, two torch threads a worker, the notebooks on one worker."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _book_command(static: Path, index: Path) -> str:
    """The jupyter-book command `make book` would run (dry run; the venv stamp is taken as up to date)."""
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", "book", f"BOOK_STATIC={static}",
                          f"BOOK_INDEX={index}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    command = out.replace("\\\n", " ")   # one command, written over two lines
    return next(line for line in command.splitlines() if "jupyter-book build" in line)


@pytest.mark.parametrize("css_is_newer", [True, False])
def test_make_book_rebuilds_all_pages_when_the_css_is_newer_than_the_build(tmp_path: Path,
                                                                           css_is_newer: bool) -> None:
    static, index = tmp_path / "_static", tmp_path / "index.html"
    static.mkdir()
    (static / "prunelib.css").write_text("td { text-align: left }")
    index.write_text("<html></html>")
    css_time, build_time = (2_000_000, 1_000_000) if css_is_newer else (1_000_000, 2_000_000)
    os.utime(static / "prunelib.css", (css_time, css_time))
    os.utime(static, (css_time, css_time))
    os.utime(index, (build_time, build_time))
    assert ("--all" in _book_command(static, index)) is css_is_newer


def test_make_book_on_a_first_build_needs_no_flag(tmp_path: Path) -> None:
    static = tmp_path / "_static"
    static.mkdir()
    assert "--all" not in _book_command(static, tmp_path / "no-build-yet" / "index.html")


def _test_command(*variables: str) -> str:
    """The pytest command `make test` would run (dry run; the venv stamp is taken as up to date). The settings of a
    `make test TEST_WORKERS=...` that runs this test reach a sub-make through MAKEFLAGS: they are left out."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TEST_WORKERS")}
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", "test", *variables], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return next(line for line in out.replace("\\\n", " ").splitlines() if "-m pytest" in line)


def test_make_test_uses_every_core_with_two_sleeping_threads_a_worker_unless_told_otherwise() -> None:
    spread = _test_command()
    assert "-n auto" in spread and spread.startswith("OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE ")
    single = _test_command("TEST_WORKERS=0")
    assert "-n 0" in single and "OMP_NUM_THREADS" not in single
    assert "-n 3" in _test_command("TEST_WORKERS=3") and "tests notebooks --nbval-lax" in single


def test_a_test_file_is_one_unit_of_work_and_the_notebooks_together_are_one() -> None:
    from conftest import xdist_scope
    assert xdist_scope("tests/test_sweep.py::test_x") == xdist_scope("tests/test_sweep.py::test_y[a::b-1]")
    assert xdist_scope("tests/test_sweep.py::test_x") != xdist_scope("tests/test_book.py::test_x")
    cells = {xdist_scope(f"notebooks/{name}.ipynb::Cell {k}") for name in ("01_training", "07_noise") for k in (0, 3)}
    assert cells == {"notebooks"}


@pytest.mark.parametrize("workers", ["-3", "two", "1 2"])
def test_make_test_refuses_a_number_of_workers_that_is_not_one(workers: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TEST_WORKERS")}
    run = subprocess.run(["make", "-n", "-o", ".venv/.installed", "test", f"TEST_WORKERS={workers}"], cwd=ROOT,
                         env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "TEST_WORKERS must be auto or a whole number" in run.stderr
    assert "-m pytest" not in run.stdout


def test_make_smoke_generates_the_synthetic_data_it_runs_on_when_there_is_none(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PRUNELIB_DATA"] = str(tmp_path / "none")
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", "smoke", f"SYNTHETIC={tmp_path / 'none'}"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert "ensure_imagenette" in out and out.index("ensure_imagenette") < out.index("reproduce --profile smoke")


def test_make_test_has_the_sweep_compute_the_notebooks_job_before_nbval_reads_it() -> None:
    """The notebooks only read their job's result (a book build never trains): ``make test`` and ``make test-fresh``
    run the sweep for it first, on the local executor (also where SLURM is installed, as in CI)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TEST_WORKERS")}
    for target in ("test", "test-fresh"):
        out = subprocess.run(["make", "-n", "-o", ".venv/.installed", target], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout.replace("\\\n", " ")
        sweep = out.find("-m prunelib sweep --profile smoke --seeds 0 --regimes global --executor local")
        assert 0 <= sweep < out.find("-m pytest"), target
