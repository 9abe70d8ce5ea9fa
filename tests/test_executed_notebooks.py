"""What the committed notebooks show: no stderr output (a warning is fixed at its cause, not published)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from prunelib.reproduce import stderr_outputs

import legacy

ROOT = Path(__file__).resolve().parent.parent
LEGACY = legacy.STDERR


def test_no_committed_notebook_has_stderr_output() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split("\0")
    noisy = {name: stderr_outputs(ROOT / name) for name in filter(None, tracked)}
    noisy = {name: found for name, found in noisy.items() if found}
    new = {f"{name}, cell {cell} ({code!r}): {first}" for name, found in noisy.items() if name not in LEGACY
           for cell, code, first in found[:1]}
    assert not new, f"stderr output in committed notebooks: {sorted(new)}; fix the cause and re-run the stage"
    assert LEGACY <= set(noisy), f"{sorted(LEGACY - set(noisy))} no longer have stderr output: remove them from LEGACY"
