"""Where prunelib keeps what it makes: caches, checkpoints and results.

Everything heavy (decoded images, checkpoints) lives in git-ignored folders of the project root;
small results (JSON/CSV/PNG) live under ``results/<profile>/``. Each location can be moved with an
environment variable, so a batch run on a GPU box can point them at scratch space.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The project root: the folder holding ``pyproject.toml`` next to this package (an editable
#: install), else the current working directory.
ROOT = Path(__file__).resolve().parent.parent
if not (ROOT / "pyproject.toml").exists():  # pragma: no cover - installed as a wheel
    ROOT = Path.cwd()


#: the environment variables that name folders; a relative one is read from the current folder, and the command line
#: writes it back absolute (:func:`absolute_environment`) so that a notebook's kernel or a job, started in another
#: folder, reads the same folder
FOLDER_VARIABLES = ("PRUNELIB_DATA", "PRUNELIB_CACHE", "PRUNELIB_CHECKPOINTS", "PRUNELIB_RESULTS", "PRUNELIB_LOGS",
                    "PRUNELIB_PROFILES")


def _from_environment(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return from_user(value) if value else default


def absolute_environment() -> None:
    """Make every relative path of :data:`FOLDER_VARIABLES` in ``os.environ`` absolute, from the current folder."""
    for variable in FOLDER_VARIABLES:
        if os.environ.get(variable):
            os.environ[variable] = str(from_user(os.environ[variable]))


def cache_dir() -> Path:
    """Decoded-image caches and checksum stamps (``$PRUNELIB_CACHE``, default ``<root>/.cache``)."""
    return _from_environment("PRUNELIB_CACHE", ROOT / ".cache")


def checkpoint_dir(profile: str) -> Path:
    """Checkpoints of one profile (``$PRUNELIB_CHECKPOINTS/<profile>``, default ``<root>/checkpoints/<profile>``)."""
    return _from_environment("PRUNELIB_CHECKPOINTS", ROOT / "checkpoints") / profile


def results_dir(profile: str) -> Path:
    """Small generated results of one profile (``$PRUNELIB_RESULTS/<profile>``, default ``<root>/results/<profile>``)."""
    return _from_environment("PRUNELIB_RESULTS", ROOT / "results") / profile


def portable(path: str | os.PathLike) -> str:
    """``path`` as it is written into notebooks and provenance: relative to the project root (``../shared/...``,
    ``results/cpu/...``), so that no folder of the machine that ran it is published; absolute only when it lies on
    another drive. A path inside the project keeps the name the project gives it, also through a symbolic link
    (``checkpoints`` linked to scratch space is written ``checkpoints/...``). Read back with :func:`resolve`."""
    named = Path(os.path.abspath(path))
    path = named if named.is_relative_to(ROOT) else Path(path).resolve()
    try:
        return os.path.relpath(path, ROOT)
    except ValueError:  # pragma: no cover - another drive (Windows)
        return str(path)


def resolve(path: str | os.PathLike) -> Path:
    """A path written by :func:`portable` (checkpoints, data and results recorded in run and result files):
    absolute as is, relative **always** to the project root, so that the folder a command is started from never
    changes what is read. (Paths a user types are made absolute by the command line first.)"""
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path


def from_user(path: str | os.PathLike) -> Path:
    """A path a user typed (an option, an environment variable): relative to the current folder, made absolute."""
    return Path(path).expanduser().absolute()


def check_writable(folder: Path, what: str, variable: str) -> None:
    """Raise OSError, in one line naming ``folder`` and how to choose another (``variable``), when ``folder``
    cannot be created or written: checked before any work, so that nothing is lost to it afterwards."""
    import tempfile
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OSError(f"cannot write the {what} folder {folder} ({err.strerror or err}); make it writable, or "
                      f"choose another with {variable}") from None
