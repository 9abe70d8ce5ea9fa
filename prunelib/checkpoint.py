"""Checkpoints as plain state dicts: written atomically, read with ``torch.load(weights_only=True)``.

Nothing here unpickles arbitrary objects: a checkpoint holds tensors, numbers, strings, lists and dicts only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune


#: the file of a folder that records the sha256 of every checkpoint :func:`save` wrote there
DIGESTS = "digests.json"


def temporary(path: Path) -> Path:
    """A temporary name beside ``path`` that no other process or thread uses (two jobs may write one folder)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


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
    record = folder / DIGESTS
    try:
        saved = json.loads(record.read_text()) if record.is_file() else {}
    except json.JSONDecodeError:
        raise ValueError(f"{record} is not valid JSON: the checkpoints of {folder} cannot be verified; remove that "
                         "folder to start its run over") from None
    return saved if isinstance(saved, dict) else {}


def _record_digest(path: Path, accepted: list[str]) -> None:
    folder = path.parent
    save_json({**_digests(folder), path.name: accepted}, folder / DIGESTS)


def save(obj: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``obj`` to ``path`` through a temporary file and ``os.replace``: a crash never leaves half a file.

    The file's sha256 goes into the folder's :data:`DIGESTS` record, so that :func:`load` can tell a checkpoint
    that was replaced by another (copied over, swapped) from the one written here. While the file is replaced both
    the old and the new digest are accepted, so a crash at any moment leaves a file that verifies."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(path)
    with open(tmp, "wb") as fh:  # through a handle: the archive's inner folder is "archive", not the temporary
        torch.save(obj, fh)      # name, so the same weights give the same bytes (and digest) in any run
    new = file_sha256(tmp)
    _record_digest(path, sorted(set(_digests(path.parent).get(path.name, [])[-1:] + [new])))
    os.replace(tmp, path)
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


def verify(path: str | os.PathLike) -> None:
    """Raise ValueError when ``path`` is not the checkpoint :func:`save` wrote there (its digest differs from the
    folder's record); a file with no record (written by something else) passes."""
    path = Path(path)
    accepted = _digests(path.parent).get(path.name)
    if accepted and file_sha256(path) not in accepted:
        raise ValueError(f"checkpoint {path} is not the file written there (its sha256 differs from the one "
                         f"{path.parent / DIGESTS} recorded): it was replaced or copied over. Remove "
                         f"{path.parent} to train that run again")


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save` (``weights_only=True``), verified against the digest recorded when
    it was written, with a clear error when it is missing, replaced or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    verify(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which one
        raise ValueError(f"cannot read checkpoint {path}: {err}") from err


def save_json(obj: Any, path: str | os.PathLike) -> None:
    """Write JSON atomically (sorted keys, indented) so a failed stage never leaves a half-written result."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(path)
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


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
