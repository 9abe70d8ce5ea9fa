"""A tiny fake ImageNette for tests and demos on machines without the real data.

Every class gets its own colour and stripe orientation (class ``c``: hue ``c/10``, stripes at ``18*c``
degrees), with a random phase, a little brightness jitter and pixel noise per image, so a small CNN can
learn the classes while no two images are identical. The layout and the ``SHA256SUMS`` file match the
real copy (``{train,val}/<wnid>/*.JPEG``), so :func:`prunelib.data.locate` and
:func:`prunelib.data.load_split` treat it like the real thing.
"""
from __future__ import annotations

import colorsys
import hashlib
import math
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from .data import WNIDS


def _image(label: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 (size, size, 3) image of class ``label``: class colour modulated by oriented stripes, plus noise."""
    colour = np.array(colorsys.hsv_to_rgb(label / len(WNIDS), 0.8, 0.9))
    angle = math.radians(18 * label)
    yy, xx = np.mgrid[0:size, 0:size] / size
    phase = rng.uniform(0, 2 * math.pi)
    stripes = 0.5 + 0.5 * np.sin(2 * math.pi * 4 * (xx * math.cos(angle) + yy * math.sin(angle)) + phase)
    img = (0.35 + 0.65 * stripes)[..., None] * colour * rng.uniform(0.8, 1.0)
    img = img + rng.normal(0, 0.05, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def make_imagenette(root: str | os.PathLike, *, n_train: int = 4, n_val: int = 2, size: int = 32, seed: int = 0,
                    checksums: bool = True) -> Path:
    """Write ``n_train``/``n_val`` JPEGs of ``size`` x ``size`` per class under ``root/{train,val}/<wnid>/``
    (all 10 wnids) and, with ``checksums``, a ``SHA256SUMS`` like the real copy's. Returns ``root``."""
    if n_train < 1 or n_val < 1 or size < 8:
        raise ValueError(f"need n_train >= 1, n_val >= 1 and size >= 8, got {n_train}, {n_val}, {size}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    lines = []
    for split, n in (("train", n_train), ("val", n_val)):
        for label, wnid in enumerate(WNIDS):
            folder = root / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(n):
                rel = f"{split}/{wnid}/{wnid}_{k:05d}.JPEG"
                Image.fromarray(_image(label, size, rng)).save(root / rel, format="JPEG", quality=95)
                lines.append(f"{hashlib.sha256((root / rel).read_bytes()).hexdigest()}  {rel}\n")
    if checksums:
        (root / "SHA256SUMS").write_text("".join(lines))
    return root


#: the synthetic ImageNette of a machine without the data (``make test``, the smoke run): 12 + 12 images a class at 64 px
SMALL = {"n_train": 12, "n_val": 12, "size": 64}


def ensure_imagenette(root: str | os.PathLike) -> Path:
    """``root`` holding the :data:`SMALL` synthetic ImageNette: generated when it has no ``SHA256SUMS`` (written
    last), into a temporary sibling renamed into place, so an interrupted generation is never taken for a finished
    one. Returns ``root``."""
    root = Path(root)
    if (root / "SHA256SUMS").is_file():
        return root
    tmp = root.with_name(f"{root.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    make_imagenette(tmp, **SMALL)
    shutil.rmtree(root, ignore_errors=True)  # an incomplete copy of an earlier, interrupted generation
    os.replace(tmp, root)
    return root
