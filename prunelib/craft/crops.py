"""Image crops and their activations, CRAFT's matrix ``A`` (Fel et al., CVPR 2023, Sec. 3.1).

Crops are square ``patch_size`` windows on a regular grid with stride ``int(0.8 * patch_size)``, as the
official ``torch.nn.functional.unfold`` call: at 224 px with 64 px patches the starts are 0, 51, 102, 153
(16 crops per image; like the official code the last 7 px rows/columns fall in no crop). Each crop is
resized bilinearly back to the image size, passed through ``g`` and averaged over space.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..metrics.validation import check_images
from ..progress import progress_bar


def patch_size(image_size: int) -> int:
    """CRAFT's crop size at ``image_size``: the official 64 px at 224 px, scaled."""
    return max(2, round(64 * image_size / 224))


def crop_stride(patch_size: int) -> int:
    """The official stride, ``int(0.8 * patch_size)``."""
    return int(0.8 * patch_size)


def crop_starts(image_size: int, patch_size: int) -> list[int]:
    """Top/left offsets of the crops along one axis: ``0, s, 2s, ...`` while the crop fits in the image."""
    return list(range(0, image_size - patch_size + 1, crop_stride(patch_size)))


def extract_crops(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """``(N, 3, S, S)`` -> ``(N * k * k, 3, p, p)``; crop ``n*k*k + i*k + j`` starts at row ``starts[i]``, column ``starts[j]``."""
    if not isinstance(patch_size, int) or patch_size < 2:
        raise ValueError(f"patch_size must be an integer >= 2, got {patch_size!r}")
    check_images(images, "images", square_rgb=True, min_size=patch_size)
    p = patch_size
    cols = F.unfold(images, kernel_size=p, stride=crop_stride(p))  # (N, 3*p*p, L)
    return cols.transpose(1, 2).reshape(-1, 3, p, p)


def model_device(module: Callable) -> torch.device:
    """The device of a module's first parameter (CPU for parameter-free callables)."""
    params = getattr(module, "parameters", None)
    first = next(iter(params()), None) if params is not None else None
    return first.device if first is not None else torch.device("cpu")


def batched_features(g: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor, size: int | None = None,
                     batch_size: int = 64, dtype: torch.dtype = torch.float32, pool: bool = True,
                     progress: bool = False) -> torch.Tensor:
    """``g`` on ``inputs`` in batches on ``g``'s device, optionally resized to ``size`` px and averaged over space.

    Args:
        inputs: ``(M, 3, p, p)`` crops or images (any device; each batch is moved to ``g``'s device).
        size: bilinear resize target (``align_corners=False``, as the official code); ``None`` keeps the size.
        dtype: ``torch.bfloat16`` runs ``g`` under autocast (CPU or CUDA); results are returned as float32.
        pool: average over the spatial axes.
    Returns:
        ``(M, C)`` if ``pool`` else ``(M, C, h, w)``, float32 on ``g``'s device.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = model_device(g)
    out = []
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        batches = range(0, inputs.shape[0], batch_size)
        for start in progress_bar(batches, desc="g forward", disable=not progress, leave=False):
            x = inputs[start:start + batch_size].to(device, torch.float32)
            if size is not None and x.shape[-1] != size:
                x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            a = g(x).float()
            out.append(a.mean(dim=(2, 3)) if pool else a)
    result = torch.cat(out)
    if result.min() < 0:
        raise ValueError("g must output non-negative activations (CRAFT factorises them with NMF); "
                         f"got a minimum of {result.min().item():.3g}. End g with a ReLU.")
    return result
