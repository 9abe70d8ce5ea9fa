"""prunelib.pictures: photographs as JPEG mosaics, figures at a moderate dpi."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from prunelib import pictures


def _photos(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Smooth colour gradients with a different colour per photograph (what JPEG is made for)."""
    *grid, h, w, _ = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    out = [(255 * np.clip(rng.uniform(0.2, 0.8, 3) + 0.2 * np.stack([xx, yy, xx * yy], -1), 0, 1)).round()
           for _ in range(int(np.prod(grid)))]
    return np.stack(out).astype(np.uint8).reshape(shape)


@pytest.mark.parametrize("shape", [(3, 5, 37, 37, 3), (6, 64, 48, 3), (1, 1, 8, 8, 3)])
def test_photos_round_trip_within_a_few_grey_levels(tmp_path: Path, shape: tuple[int, ...]) -> None:
    photos = _photos(shape)
    path = pictures.save_photos(photos, tmp_path / "crops.jpg")
    back = pictures.load_photos(path, shape)
    assert back.shape == shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - photos).max() <= 6  # JPEG quality 90, 4:4:4: no tile bleeds into the next
    assert Image.open(path).format == "JPEG"


def test_a_black_tile_beside_a_white_one_stays_black(tmp_path: Path) -> None:
    """Tiles padded to JPEG's 8-px blocks: a 37-px crop's block never holds pixels of its neighbour."""
    photos = np.zeros((1, 2, 37, 37, 3), dtype=np.uint8)
    photos[0, 1] = 255
    back = pictures.load_photos(pictures.save_photos(photos, tmp_path / "x.jpg"), photos.shape)
    assert back[0, 0].max() <= 3 and back[0, 1].min() >= 252


def test_photos_are_smaller_than_the_raw_pixels(tmp_path: Path) -> None:
    photos = _photos((5, 5, 37, 37, 3))
    path = pictures.save_photos(photos, tmp_path / "g.jpg")
    assert path.stat().st_size < photos.nbytes / 4


def test_bad_photos_and_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"uint8 \(rows, cols, H, W, 3\)"):
        pictures.save_photos(np.zeros((2, 8, 8, 3), dtype=np.float32), tmp_path / "x.jpg")
    with pytest.raises(ValueError, match="does not exist"):
        pictures.load_photos(tmp_path / "missing.jpg", (1, 8, 8, 3))
    path = pictures.save_photos(_photos((2, 16, 16, 3)), tmp_path / "two.jpg")
    with pytest.raises(ValueError, match=r"two.jpg is 32 x 16 px, not a mosaic of 1 x 3 photographs of 16 x 16"):
        pictures.load_photos(path, (3, 16, 16, 3))


def test_figures_saved_at_the_moderate_dpi(tmp_path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1], [1, 0])
    png = pictures.save_figure(fig, tmp_path / "plot.png")
    webp = pictures.save_figure(fig, tmp_path / "gallery.webp")
    plt.close(fig)
    size = (4 * pictures.FIGURE_DPI, 2 * pictures.FIGURE_DPI)
    assert Image.open(png).format == "PNG" and Image.open(png).size == size
    assert Image.open(webp).format == "WEBP" and Image.open(webp).size == size


def test_saliency_files_load_with_their_images(tmp_path: Path) -> None:
    """What the saliency stage writes (images.jpg, maps.npz, maps.json with the images' shape) loads back whole."""
    import json

    from prunelib.figures.saliency import load_maps

    images = _photos((2, 32, 32, 3))
    pictures.save_photos(images, tmp_path / "images.jpg")
    vg = np.random.default_rng(0).random((2, 2, 32, 32)).astype(np.float16)  # the stage stores a figure's precision
    np.savez_compressed(tmp_path / "maps.npz", levels=np.array([0.0, 0.5]), VG=vg)
    (tmp_path / "maps.json").write_text(json.dumps({"classes": ["church", "tench"], "image_shape": [2, 32, 32, 3]}))
    maps = load_maps(tmp_path)
    assert maps["images"].shape == (2, 32, 32, 3) and np.abs(maps["images"].astype(int) - images).max() <= 6
    assert maps["VG"].shape == (2, 2, 32, 32) and maps["classes"] == ["church", "tench"]
    assert maps["VG"].dtype == np.float32 and np.array_equal(maps["VG"], vg.astype(np.float32))
    assert maps["levels"].dtype == np.float64  # only the maps are widened
