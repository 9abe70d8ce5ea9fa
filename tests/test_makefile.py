"""The Makefile's own logic: `make book` rebuilds every page when only the book's static files (its CSS) changed."""
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
