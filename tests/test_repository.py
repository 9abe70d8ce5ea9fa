"""What the repository publishes: no folder of the machine that wrote a file."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: an absolute path into the machine's work, temporary or root folder, or into a user's home
MACHINE_PATH = re.compile(r"""(^|[\s"'=(:])/(work|tmp|root|home/[a-z][a-z0-9_-]*|Users/[A-Za-z0-9_-]+)/""", re.M)


def _tracked_text_files() -> dict[str, str]:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    out = {}
    for name in filter(None, files.split("\0")):
        raw = (ROOT / name).read_bytes() if (ROOT / name).is_file() else b""
        if b"\0" not in raw:
            out[name] = raw.decode("utf-8", errors="replace")
    return out


def test_no_committed_file_names_a_folder_of_this_machine() -> None:
    offenders = {name for name, text in _tracked_text_files().items()
                 if MACHINE_PATH.search(text)}
    assert not offenders, f"absolute paths of the machine in {sorted(offenders)}: write them relative to the " \
                          "project (prunelib.paths.portable)"


def _absolute(*parts: str) -> str:
    """An absolute path built from its folders, so that this file itself names none (the test above reads it too)."""
    return "/" + "/".join(parts)


def test_the_pattern_finds_machine_paths_and_nothing_else() -> None:
    assert MACHINE_PATH.search(f'data = "{_absolute("work", "shared", "data")}"')
    assert MACHINE_PATH.search(f"cd {_absolute('tmp', 'x')} && ls")
    assert MACHINE_PATH.search(f'"{_absolute("home", "alice", ".venv", "lib")}"')
    assert MACHINE_PATH.search(f"({_absolute('root', '.cache', 'x')})")
    assert not MACHINE_PATH.search('data = "../shared/data/imagenette2-224"')
    assert not MACHINE_PATH.search("see https://example.org/work/x and a/tmp/b")


def test_every_benchmark_script_imports() -> None:
    """A benchmark is run by hand, rarely: importing each catches a name the package no longer defines."""
    import importlib.util
    for path in sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_no_committed_file_is_over_5_mb() -> None:
    """Checkpoints and data stay out of git; what git keeps of a unit's state (masks, the dense references) is
    compact, one file a class where it is per class."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    big = {name: (ROOT / name).stat().st_size for name in filter(None, files.split("\0"))
           if (ROOT / name).is_file() and (ROOT / name).stat().st_size > 5_000_000}
    assert not big, f"files over 5 MB committed: {big}"
