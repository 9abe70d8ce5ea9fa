"""Shared fixtures: a tiny synthetic ImageNette, an isolated cache folder and the folders of a tiny sweep."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from prunelib.synthetic import make_imagenette
from tiny_sweep import TINY

#: the cache folder the caller chose, if any (read before any fixture redirects it)
_CALLER_CACHE = os.environ.get("PRUNELIB_CACHE")


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only (by convention) fake ImageNette: 4 train + 2 val 32x32 JPEGs per class, with SHA256SUMS.

    Tests that modify a dataset should build their own with ``make_imagenette(tmp_path / ...)``."""
    return make_imagenette(tmp_path_factory.mktemp("imagenette-synthetic"), n_train=4, n_val=2, size=32, seed=0)


#: the folder holding the project's shared inputs beside a checkout (the real data, the paper's numbers)
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
#: validation images of the real ImageNette v2 (shared/data/README.md)
REAL_VAL_IMAGES = 3925


@pytest.fixture(scope="session")
def real_imagenette() -> Path:
    """``$PRUNELIB_DATA`` when it is the real ImageNette (all 3,925 validation images), else the test is skipped
    with the reason: ``make test`` on a machine without the data runs on a synthetic copy."""
    path = os.environ.get("PRUNELIB_DATA")
    if not path or not Path(path, "val").is_dir():
        pytest.skip("needs the real ImageNette: set PRUNELIB_DATA (make test uses ../shared/data/imagenette2-224)")
    n = sum(1 for _ in Path(path, "val").glob("*/*.JPEG"))
    if n != REAL_VAL_IMAGES:
        pytest.skip(f"PRUNELIB_DATA={path} has {n} validation images, not ImageNette's {REAL_VAL_IMAGES} "
                    "(a synthetic or partial copy): this test needs the real one")
    return Path(path)


@pytest.fixture
def sweep_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthetic_root: Path) -> dict:
    """Profiles, results, checkpoints and logs in a temporary folder (inherited by the jobs' processes)."""
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(TINY)
    for name, sub in (("PRUNELIB_PROFILES", "profiles.yaml"), ("PRUNELIB_RESULTS", "results"),
                      ("PRUNELIB_CHECKPOINTS", "checkpoints"), ("PRUNELIB_LOGS", "logs")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return {"root": tmp_path, "data": str(synthetic_root)}


@pytest.fixture(scope="session", autouse=True)
def _test_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``prunelib.paths.cache_dir()`` at a per-session temporary folder from the session's start, so that no
    test on synthetic data writes into the project's ``.cache``, whatever its fixtures' scope (a module fixture runs
    before any function-scoped fixture could redirect it)."""
    folder = tmp_path_factory.mktemp("prunelib-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRUNELIB_CACHE", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def _real_cache_for_real_data(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests marked ``data`` (the real copy) keep the project's cache (or the one the caller set), so its decoded
    images are made once per machine, not once per session."""
    if request.node.get_closest_marker("data") is not None:
        monkeypatch.setenv("PRUNELIB_CACHE", os.environ["PRUNELIB_CACHE"])  # the session's folder, back after the test
        restore_caller_cache()


def restore_caller_cache() -> None:
    """Set ``PRUNELIB_CACHE`` back to what the caller had (unset if it was unset)."""
    if _CALLER_CACHE is None:
        os.environ.pop("PRUNELIB_CACHE", None)
    else:
        os.environ["PRUNELIB_CACHE"] = _CALLER_CACHE


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """nbval runs a notebook (``make test``: notebooks/) in a kernel that inherits this process's environment,
    started at the notebook's first cell. The notebooks read the real ImageNette, so their kernels get the caller's
    cache back: the decoded real images are made once per machine (1.4 GB and about a minute for the train split),
    not once per session. (A hook of the session, not of this folder, so that it also sees the notebooks' items;
    the session fixture above restores the variable when the session ends.)"""
    if item.path.suffix == ".ipynb":
        restore_caller_cache()


def xdist_scope(nodeid: str) -> str:
    """The work unit of an item under pytest-xdist: its test file; every notebook cell: one unit, "notebooks"."""
    path = nodeid.split("::", 1)[0]
    return "notebooks" if path.endswith(".ipynb") else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``make test`` runs the suite on every core with pytest-xdist (the Makefile sets its threads). A test file goes to
    one worker (its module fixtures, e.g. a built book, are made once), and so do the notebooks, together and in
    order: their cells share a kernel, and notebooks 02-08 read the job notebook 01 ran. (xdist's own
    ``--dist loadgroup`` cannot group them: xdist 3.8 renames the items through ``_nodeid``, which pytest 9.2 no
    longer reads, so its groups are silently ignored.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByFileNotebooksTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return ByFileNotebooksTogether(config, log)
