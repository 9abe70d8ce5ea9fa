"""A trained network of the study from its checkpoint: the one way every stage loads one to measure it."""
from __future__ import annotations

from pathlib import Path

from torch import nn

from . import checkpoint
from .models import resnet18
from .pruning import make_permanent


def load_network(path: Path, expected: str | None = None) -> nn.Module:
    """A network from its checkpoint, masks made permanent, in eval mode; ``expected``: the checkpoint's sha256 as a
    result records it (checked where the folder's digest record lacks the file, :func:`prunelib.checkpoint.verify`)."""
    model = resnet18()
    checkpoint.load_model_state(model, checkpoint.load(path, expected=expected)["model"])
    return make_permanent(model).eval()
