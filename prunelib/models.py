"""The network of the study: torchvision's ResNet-18 with a 10-way head, trained from scratch."""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet18 as _tv_resnet18


def resnet18(num_classes: int = 10, seed: int | None = None) -> nn.Module:
    """A randomly initialised torchvision ResNet-18 (no pretrained weights exist here, and the paper trains from scratch).

    Args:
        num_classes: size of the final linear layer (10 for ImageNette).
        seed: if given, the initialisation is drawn from ``torch.manual_seed(seed)`` so it is reproducible.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if seed is not None:
        torch.manual_seed(seed)
    return _tv_resnet18(weights=None, num_classes=num_classes)


def device_of(model: nn.Module) -> torch.device:
    """The device of ``model``'s parameters (the CPU for a model without any)."""
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU; ``"cpu"``/``"cuda"``/``"cuda:1"`` are taken as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available on this machine")
    return torch.device(device)
