"""How the pipeline stores pictures: photographs as JPEG at their own pixel size, figures at a moderate resolution.

- :func:`save_photos` / :func:`load_photos`: a grid of same-sized uint8 photographs (image crops, validation
  images) as one JPEG mosaic. Each tile is padded to a multiple of JPEG's 8-pixel block, so no tile's compression
  reaches into its neighbour, and the chroma is kept at full resolution (4:4:4). Read back, the crops of a cpu-profile
  concept gallery (37 px) differ from the originals by 2.1 grey levels on average (at most 23), at a quarter of the
  size of the compressed raw pixels.
- :func:`save_figure`: a matplotlib figure at :data:`FIGURE_DPI`, as PNG (lines and text) or, for a figure made of
  photographs such as a concept gallery, as WebP (the suffix of the path decides). A gallery of 5 x 5 crops of
  37 px takes about 50 KB as WebP and 100-300 KB as PNG, whose size jumps with how the crops are resampled.
"""
from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

#: resolution of a figure saved as a file (a concept gallery): 100 px an inch, the size it is shown at in the book,
#: where its smallest text is 11 px or more; its photographs hold no more detail at a higher resolution
FIGURE_DPI = 100
#: JPEG quality of photographs
JPEG_QUALITY = 90
#: quality of a figure saved in a lossy format (WebP, JPEG)
FIGURE_QUALITY = 85
if TYPE_CHECKING:
    from IPython.display import HTML

_LOSSY = (".webp", ".jpg", ".jpeg")
_BLOCK = 8  # JPEG's block size with 4:4:4 chroma
_JPEG = {"format": "JPEG", "quality": JPEG_QUALITY, "subsampling": 0}


def _tile(size: int) -> int:
    return -(-size // _BLOCK) * _BLOCK


def save_photos(photos: np.ndarray, path: str | os.PathLike) -> Path:
    """Write uint8 photographs ``(rows, cols, H, W, 3)`` (or one row, ``(n, H, W, 3)``) as one JPEG mosaic."""
    photos = np.asarray(photos)
    if photos.ndim == 4:
        photos = photos[None]
    if photos.dtype != np.uint8 or photos.ndim != 5 or photos.shape[-1] != 3 or 0 in photos.shape:
        raise ValueError(f"photos must be uint8 (rows, cols, H, W, 3) or (n, H, W, 3), got {photos.dtype} "
                         f"{photos.shape}")
    rows, cols, h, w, _ = photos.shape
    mosaic = np.zeros((rows * _tile(h), cols * _tile(w), 3), dtype=np.uint8)
    for i in range(rows):
        for j in range(cols):
            tile = mosaic[i * _tile(h):(i + 1) * _tile(h), j * _tile(w):(j + 1) * _tile(w)]
            tile[:] = np.pad(photos[i, j], ((0, _tile(h) - h), (0, _tile(w) - w), (0, 0)), mode="edge")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mosaic).save(path, **_JPEG)
    return path


def load_photos(path: str | os.PathLike, shape: tuple[int, ...]) -> np.ndarray:
    """The photographs :func:`save_photos` wrote, as uint8 of ``shape`` (the shape that was saved)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"picture file {path} does not exist")
    *grid, h, w, _ = shape
    rows, cols = grid if len(grid) == 2 else (1, *grid)
    mosaic = np.asarray(Image.open(path).convert("RGB"))
    if mosaic.shape[:2] != (rows * _tile(h), cols * _tile(w)):
        raise ValueError(f"{path} is {mosaic.shape[1]} x {mosaic.shape[0]} px, not a mosaic of {rows} x {cols} "
                         f"photographs of {w} x {h} px")
    photos = np.stack([np.stack([mosaic[i * _tile(h):i * _tile(h) + h, j * _tile(w):j * _tile(w) + w]
                                 for j in range(cols)]) for i in range(rows)])
    return photos.reshape(shape)


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Save ``fig`` at :data:`FIGURE_DPI` in the format of the suffix of ``path``: ``.png`` for a plot, ``.webp``
    (at :data:`FIGURE_QUALITY`) for a figure made of photographs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lossy = path.suffix.lower() in _LOSSY
    fig.savefig(path, dpi=FIGURE_DPI, pil_kwargs={"quality": FIGURE_QUALITY} if lossy else None)
    return path


def embedded(fig: Figure, path: str | os.PathLike, alt: str) -> "HTML":
    """Save ``fig`` with :func:`save_figure` and return it as an HTML ``<img>`` holding that file's bytes: how a
    notebook shows a figure made of photographs in WebP, a third of its size as PNG (``alt``: its description)."""
    from IPython.display import HTML

    path = save_figure(fig, path)
    kind = {".webp": "webp", ".jpg": "jpeg", ".jpeg": "jpeg"}.get(path.suffix.lower(), "png")
    data = base64.b64encode(path.read_bytes()).decode()
    width = Image.open(path).size[0]
    return HTML(f'<img src="data:image/{kind};base64,{data}" width="{width}" alt="{html.escape(alt)}" '
                'style="max-width: 100%; height: auto">')
