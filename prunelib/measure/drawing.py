"""What the explorer draws: a saliency map laid over its image, as a pixel array."""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps

from .encoding import as_uint8


def saturation_value(saliency: np.ndarray, outliers: float = 0.02) -> float:
    """The value of ``|saliency|`` that the colour scale tops out at: the smallest ``v`` such that the values up to
    ``v`` hold ``1 - outliers`` of the map's total (captum's ``visualize_image_attr``, ``outlier_perc=2``).

    A few extreme pixels then do not turn the rest of the map black; a map whose mass sits on a few pixels keeps
    them as its top. 1 for an all-zero map.
    """
    values = np.sort(np.abs(np.asarray(saliency, dtype=np.float64)).ravel())
    if not values.size or values[-1] == 0:
        return 1.0
    cumulative = np.cumsum(values)
    return float(values[np.searchsorted(cumulative, (1 - outliers) * cumulative[-1])])


def overlay(image: np.ndarray, saliency: np.ndarray, cmap: str = "inferno", opacity: float = 0.6,
            outliers: float = 0.02) -> np.ndarray:
    """The map ``saliency`` (H, W) laid over ``image`` (H, W, 3): an (H, W, 3) uint8 array.

    ``v = min(|m| / s, 1)`` with ``s`` the :func:`saturation_value`; the colour ``cmap(v)`` covers a grey copy of
    the image with ``opacity``: dark where the map is near 0, bright where it is largest, and the image shows
    through everywhere.
    """
    base = as_uint8(image).astype(np.float64) / 255
    if base.ndim != 3:
        raise ValueError(f"image: expected an (H, W, 3) array, got shape {base.shape}")
    m = np.abs(np.asarray(saliency, dtype=np.float64))
    if m.shape != base.shape[:2]:
        raise ValueError(f"saliency: expected shape {base.shape[:2]} (the image's), got {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("saliency contains NaN or inf values")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity: expected a number in [0, 1], got {opacity}")
    v = np.minimum(m / saturation_value(m, outliers), 1.0)
    grey = np.repeat(base @ np.array([0.299, 0.587, 0.114]), 3).reshape(base.shape)
    return as_uint8((1 - opacity) * grey + opacity * colormaps[cmap](v)[..., :3])
