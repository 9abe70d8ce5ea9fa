"""Checkpoints as plain state dicts: written atomically, read with ``torch.load(weights_only=True)``.

Nothing here unpickles arbitrary objects: a checkpoint holds tensors, numbers, strings, lists and dicts only.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn
from torch.nn.utils import prune


#: the file of a folder that records the sha256 of every checkpoint :func:`save` wrote there
DIGESTS = "digests.json"


#: this machine's name as temporaries carry it (a folder may be shared by the nodes of a cluster)
HOST = re.sub(r"[^A-Za-z0-9_-]", "-", platform.node()) or "host"


def temporary(path: Path) -> Path:
    """A temporary name beside ``path`` that no other process or thread uses (two jobs may write one folder, from
    two machines): ``.<name>.<pid>@<host>.<8 hex>.tmp``."""
    return path.with_name(f".{path.name}.{os.getpid()}@{HOST}.{uuid.uuid4().hex[:8]}.tmp")


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (another user's included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_orphans(path: Path) -> list[Path]:
    """Remove the temporaries of ``path`` (:func:`temporary`) left by processes of this machine that no longer run
    (killed while writing); return them. A live writer's temporary stays, and another machine's."""
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*@{HOST}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split("@")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


class WriteError(OSError):
    """A file could not be written; the message names it and the free space of its disk."""


@contextlib.contextmanager
def writing(path: Path) -> Iterator[Path]:
    """A temporary beside ``path`` to write, moved onto ``path`` when the block ends without error; on any error
    (a full disk, a kill that raises) the temporary is removed, and an OSError names ``path`` and the free space
    left on its disk. Temporaries of killed writers of ``path`` are removed first (:func:`remove_orphans`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    tmp = temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, (OSError, RuntimeError)) and not isinstance(err, (WriteError, NotImplementedError)):
            raise WriteError(getattr(err, "errno", None) or errno.EIO,
                             f"cannot write {path}: {_first_line(err)} ({_free(path.parent)} free on its disk)"
                             ) from err
        raise


def _first_line(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def _free(folder: Path) -> str:
    """The free space of ``folder``'s disk, in MB."""
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:.1f} MB"
    except OSError:
        return "an unknown amount"


def swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` (a file or folder) by ``staging`` with the old version removed only afterwards: a failure
    before the swap leaves ``final`` as it was."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def _digests(folder: Path) -> dict[str, list[str]]:
    """The folder's :data:`DIGESTS` record (empty when there is none); ValueError naming it when it is not one."""
    record = folder / DIGESTS
    try:
        saved = json.loads(record.read_text()) if record.is_file() else {}
    except json.JSONDecodeError:
        raise ValueError(f"{record} is not valid JSON: the checkpoints of {folder} cannot be verified; remove that "
                         "folder to start its run over") from None
    if not isinstance(saved, dict) or not all(isinstance(v, list) and all(isinstance(d, str) for d in v)
                                              for v in saved.values()):
        raise ValueError(f"{record} is not a record of digests (a JSON mapping of file names to lists of sha256): "
                         f"the checkpoints of {folder} cannot be verified; remove that folder to start its run over")
    return saved


def _record_digest(path: Path, accepted: list[str]) -> None:
    folder = path.parent
    save_json({**_digests(folder), path.name: accepted}, folder / DIGESTS)


def save(obj: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``obj`` to ``path`` through a temporary file and ``os.replace``: a crash never leaves half a file.

    The file's sha256 goes into the folder's :data:`DIGESTS` record, so that :func:`load` can tell a checkpoint
    that was replaced by another (copied over, swapped) from the one written here. While the file is replaced both
    the old and the new digest are accepted, so a crash at any moment leaves a file that verifies."""
    path = Path(path)
    with writing(path) as tmp:
        with open(tmp, "wb") as fh:  # through a handle: the archive's inner folder is "archive", not the temporary
            torch.save(obj, fh)      # name, so the same weights give the same bytes (and digest) in any run
        new = file_sha256(tmp)
        _record_digest(path, sorted(set(_digests(path.parent).get(path.name, [])[-1:] + [new])))
    _record_digest(path, [new])


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def state_digest(path: str | os.PathLike, key: str = "model") -> str:
    """sha256 of the tensors under ``key`` of a checkpoint (names, dtypes, shapes and values, in key order): the
    identity of the weights a run starts from, whatever else the file holds (``last.pt`` also keeps the timings
    of its epochs, which differ between two trainings of the same weights)."""
    return tensors_digest(load(path)[key])


def tensors_digest(state: dict[str, torch.Tensor]) -> str:
    """sha256 of a state dict's tensors (names, dtypes, shapes and values, in name order), whatever file holds them."""
    h = hashlib.sha256()
    for name, tensor in sorted(state.items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def verify(path: str | os.PathLike, expected: str | None = None) -> None:
    """Raise ValueError when ``path`` is not the checkpoint :func:`save` wrote there: its digest differs from the
    folder's record, or, where the folder records none for it, from ``expected`` (the digest a result or run
    record holds of it). A file with neither (its record lost, or written by something else) is refused too."""
    path = Path(path)
    accepted = _digests(path.parent).get(path.name) or ([expected] if expected else None)
    if not accepted:
        raise ValueError(f"checkpoint {path} has no digest record ({path.parent / DIGESTS} does not name it), so "
                         f"whether it is the file written there cannot be told. Remove {path.parent} to train that "
                         "run again")
    if file_sha256(path) not in accepted:
        source = path.parent / DIGESTS if path.name in _digests(path.parent) else "its result's record"
        raise ValueError(f"checkpoint {path} is not the file written there (its sha256 differs from the one "
                         f"{source} recorded): it was replaced or copied over. Remove "
                         f"{path.parent} to train that run again")


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu", expected: str | None = None
         ) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save` (``weights_only=True``), verified against the digest recorded when
    it was written (or ``expected``, see :func:`verify`), with a clear error when it is missing, replaced or
    unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    verify(path, expected)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which one
        raise ValueError(f"cannot read checkpoint {path}: {err}") from err


def save_json(obj: Any, path: str | os.PathLike) -> None:
    """Write JSON atomically (sorted keys, indented) so a failed stage never leaves a half-written result."""
    with writing(Path(path)) as tmp:
        write_json(obj, tmp)


def write_json(obj: Any, path: Path) -> None:
    """Write JSON as :func:`save_json` does, but in place (into a temporary of :func:`writing`)."""
    path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def load_model_state(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """Load a state dict into ``model``, re-creating pruning masks (``*_mask`` keys) the state dict carries.

    A model saved while ``torch.nn.utils.prune`` hooks were attached stores ``weight_orig`` and ``weight_mask``;
    the same hooks are attached here (with a placeholder mask that the state dict then overwrites).
    """
    modules = dict(model.named_modules())
    for key in state:
        if key.endswith("_mask"):
            module_name, _, tensor_name = key[: -len("_mask")].rpartition(".")
            module = modules[module_name]
            if not hasattr(module, tensor_name + "_mask"):
                prune.identity(module, tensor_name)
    model.load_state_dict(state)
    return model
