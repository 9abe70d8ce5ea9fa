"""nbval runs each notebook of this folder in a kernel that inherits this process's environment. The tests' session
fixture (tests/conftest.py) points ``PRUNELIB_CACHE`` at a temporary folder for the tests on synthetic data; the
notebooks read the real ImageNette (``make test``), so their kernels get the cache the caller chose back: the
decoded real images are made once per machine, not once per session (1.4 GB and about a minute for the train split).
"""
from __future__ import annotations

import os

import pytest

#: the cache folder the caller chose, if any (read at collection, before any fixture redirects it)
CALLER_CACHE = os.environ.get("PRUNELIB_CACHE")


def restore_caller_cache() -> None:
    """Set ``PRUNELIB_CACHE`` back to what the caller had (unset if it was unset)."""
    if CALLER_CACHE is None:
        os.environ.pop("PRUNELIB_CACHE", None)
    else:
        os.environ["PRUNELIB_CACHE"] = CALLER_CACHE


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a notebook's kernel starts (at its first cell's setup); the tests' session fixture restores the
    variable when the session ends."""
    restore_caller_cache()
