"""What the committed notebooks show: no stderr output (a warning is fixed at its cause, not published)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from prunelib.reproduce import stderr_outputs

ROOT = Path(__file__).resolve().parent.parent


def test_no_committed_notebook_has_stderr_output() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split("\0")
    noisy = {name: stderr_outputs(ROOT / name) for name in filter(None, tracked)}
    noisy = {name: found for name, found in noisy.items() if found}
    found = {f"{name}, cell {cell} ({code!r}): {first}" for name, found in noisy.items()
             for cell, code, first in found[:1]}
    assert not found, f"stderr output in committed notebooks: {sorted(found)}; fix the cause and re-run the stage"
