"""Progress bars for long work, shown where the person waiting looks and never frozen into a notebook.

- Run by a person (a terminal, or a notebook opened in Jupyter): tqdm's own choice, a widget in a notebook.
- Executed in batch by ``python -m prunelib reproduce`` (which sets ``PRUNELIB_BATCH=1`` for its kernels): a text
  bar written straight to the kernel process's terminal, i.e. the runner's terminal or log. A widget drawn there
  would be saved in the executed notebook at its first state, a bar frozen at 0 % for every reader of the book, and
  a bar on the notebook's stderr would be a stderr output, which the runner refuses.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import IO

from tqdm import tqdm as text_tqdm
from tqdm.auto import tqdm as auto_tqdm

#: the environment variable the runner sets for the kernels it starts
BATCH = "PRUNELIB_BATCH"


def _terminal() -> IO[str] | None:
    """The process's own stderr, beneath a Jupyter kernel's capture of it (ipykernel's ``fileno()``), or None."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return open(fd, "w", closefd=False)


def progress_bar(iterable: Iterable | None = None, **kwargs) -> auto_tqdm:
    """A tqdm bar over ``iterable`` (tqdm's keyword arguments: ``desc``, ``total``, ``leave``, ``disable`` ...)."""
    if os.environ.get(BATCH) != "1":
        return auto_tqdm(iterable, **kwargs)
    terminal = _terminal()
    if terminal is None:
        kwargs["disable"] = True
    return text_tqdm(iterable, file=terminal, **kwargs)
