"""Checkpoints as plain state dicts: written atomically, read with ``torch.load(weights_only=True)``.

Nothing here unpickles arbitrary objects: a checkpoint holds tensors, numbers, strings, lists and dicts only.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune


def save(obj: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``obj`` to ``path`` through a temporary file and ``os.replace``: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save` (``weights_only=True``), with a clear error when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which one
        raise ValueError(f"cannot read checkpoint {path}: {err}") from err


def save_json(obj: Any, path: str | os.PathLike) -> None:
    """Write JSON atomically (sorted keys, indented) so a failed stage never leaves a half-written result."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
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
