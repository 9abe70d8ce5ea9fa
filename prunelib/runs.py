"""Run identities: every run folder records what defines it, and nothing is resumed or reused from other inputs.

A run folder (a dense training, one pruning level) holds ``run.json``: the identity of the run, i.e. the data
it is trained on (the digests of the train and val splits, which cover file names, contents and any subset
drawn), its recipe (:class:`~prunelib.training.TrainConfig`), its parent (the sha256 of the checkpoint it starts
from, for a pruning level), and the version of prunelib's training code (:func:`prunelib.training.run_identity`).
:func:`claim` writes it when the folder is new and compares it when the folder exists (:func:`prunelib.currency.
why_stale`): a run is resumed or reused only when every field matches, otherwise :class:`RunMismatch` names the
fields that differ and the folder to remove.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
from pathlib import Path
from typing import Any, Iterable, Iterator

from .checkpoint import file_sha256, save_json
from .currency import why_stale

RUN_FILE = "run.json"
#: files whose presence means a folder holds a run (made before identities existed if run.json is absent)
_RUN_OUTPUTS = ("last.pt", "best.pt", "final.pt", "init.pt")


class RunMismatch(ValueError):
    """A run folder holds a run of other inputs (or of unknown inputs); the message names fields and folder."""


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (a parent checkpoint, an initial state)."""
    return file_sha256(path)


def network_key(network: dict[str, Any]) -> str:
    """A measured network as results name it: its run's identity (what it was made from) and its checkpoint's digest
    (its weights). The identity alone does not name the weights: the same inputs trained on another machine (another
    CPU, a GPU) give the same identity and other weights."""
    return f"{network['identity']}:{network.get('checkpoint_sha256', '')}"


def first_network(networks: Iterable[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The first of a job's measured ``networks`` of ``kind`` (``"dense"``: the unpruned parent every level is judged
    against; ``"control"``, ``"pruned"``), or None where the job measured none."""
    return next((n for n in networks if n["network"] == kind), None)


@contextlib.contextmanager
def locked(folder: str | Path, *, wait: bool = True, what: str = "run folder") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (``folder/.lock``, ``flock``) for the ``with`` block.

    Two processes that would write one folder (two jobs of a seed share its dense run) take turns: the second waits
    and then finds the run done. With ``wait=False`` a held lock raises :class:`Busy` at once. The lock dies with its
    process, so a killed job never leaves a folder locked."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = (folder / ".lock").read_text().strip() or "another process"
            if not wait:
                raise Busy(f"{folder} is in use by {holder}") from None
            print(f"{what} {folder} is in use by {holder}; waiting for it", flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"process {os.getpid()} on {platform.node()}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


class Busy(RuntimeError):
    """A folder is locked by another live process (see :func:`locked`)."""


def data_identity(train_split: Any, val_split: Any) -> dict[str, Any]:
    """What a run's data is: the digests and sizes of its train and val splits (see ``prunelib.data.Split``)."""
    return {"train": train_split.digest, "val": val_split.digest, "n_train": len(train_split),
            "n_val": len(val_split)}


def claim(run_dir: str | Path, ident: dict[str, Any]) -> Path:
    """Make ``run_dir`` the folder of the run ``ident``, or check that it already is.

    Writes ``run_dir/run.json`` for a new or empty folder. Raises :class:`RunMismatch` when the folder holds a
    run of another identity (naming the differing fields) or checkpoints without a ``run.json``.
    """
    run_dir = Path(run_dir)
    record = run_dir / RUN_FILE
    if record.is_file():
        try:
            saved = json.loads(record.read_text())
        except json.JSONDecodeError as err:
            raise RunMismatch(f"{record} is not valid JSON ({err}); remove {run_dir} to start this run over") from None
        if not isinstance(saved, dict):
            raise RunMismatch(f"{record} is not a run's identity (a JSON {type(saved).__name__}, not a mapping); "
                              f"remove {run_dir} to start this run over")
        diff = why_stale(saved, ident)
        if diff:
            raise RunMismatch(f"{run_dir} holds a run of other inputs ({'; '.join(diff)}); remove that folder to "
                              "start over, or write this run to another folder")
        return record
    leftovers = [name for name in _RUN_OUTPUTS if (run_dir / name).exists()]
    if leftovers:
        raise RunMismatch(f"{run_dir} holds checkpoints ({', '.join(leftovers)}) but no {RUN_FILE}, so what they were "
                          "trained on is unknown; remove that folder to start over")
    save_json(json.loads(json.dumps(ident)), record)
    return record
