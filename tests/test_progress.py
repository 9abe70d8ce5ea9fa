"""Progress bars: tqdm's choice for a person, a text bar on the process's terminal in batch, nothing in between."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from tqdm import tqdm as text_tqdm
from tqdm.auto import tqdm as auto_tqdm

from prunelib.progress import BATCH, progress_bar


def test_a_person_gets_tqdm_s_own_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BATCH, raising=False)
    bar = progress_bar(range(2), disable=True)
    assert type(bar) is auto_tqdm and list(bar) == [0, 1]


def test_in_batch_the_bar_is_text_on_the_stream_beneath_stderr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Under a Jupyter kernel ``sys.stderr`` captures into the notebook; its ``fileno()`` is the terminal's."""
    terminal = (tmp_path / "terminal").open("w+")

    class KernelStderr(io.StringIO):  # what ipykernel's OutStream looks like from here
        def fileno(self) -> int:
            return terminal.fileno()

    captured = KernelStderr()
    monkeypatch.setenv(BATCH, "1")
    monkeypatch.setattr(sys, "stderr", captured)
    assert list(progress_bar(range(4), desc="batch bar", disable=False)) == [0, 1, 2, 3]
    terminal.flush()
    assert "batch bar: 100%" in (tmp_path / "terminal").read_text()
    assert captured.getvalue() == ""  # nothing reached the notebook's stderr


def test_in_batch_without_a_terminal_the_bar_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = io.StringIO()  # no fileno(): nowhere to draw but the notebook
    monkeypatch.setenv(BATCH, "1")
    monkeypatch.setattr(sys, "stderr", captured)
    bar = progress_bar(range(3), desc="silent", disable=False)
    assert type(bar) is text_tqdm and bar.disable and list(bar) == [0, 1, 2]
    assert captured.getvalue() == ""
