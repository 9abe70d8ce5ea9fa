"""Figure 5 of the paper and ours: saliency maps of a few images across pruning levels."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..pictures import load_photos
from ..provenance import Source
from ..stages.faithfulness import level_key
from .captions import captioned


def load_maps(stage_dir: str | Path) -> dict:
    """``maps.npz``, ``maps.json`` and ``images.jpg`` written by
    :func:`prunelib.stages.saliency_maps.saliency_grid`: the arrays, the labels and ``images`` uint8
    (K, S, S, 3)."""
    stage_dir = Path(stage_dir)
    with np.load(stage_dir / "maps.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    info = json.loads((stage_dir / "maps.json").read_text())
    images = load_photos(stage_dir / "images.jpg", tuple(info["image_shape"]))
    return {**arrays, **info, "images": images}


def plot_saliency_grid(maps: dict, method: str, source: Source | None = None, dpi: int = 72) -> Figure:
    """Rows: images; columns: the image, then its ``method`` map at each level.

    ``dpi`` 72 keeps each map at about its pixel size (128 px maps, ~100 px cells) and the executed notebook small.

    One colour scale per row (the row's largest value maps to white), so a row shows how pruning moves and
    concentrates the attribution of one image; each map is labelled with its Gini index and the prediction.
    """
    levels, images, values = maps["levels"], maps["images"], maps[method]
    n_img, n_lvl = images.shape[0], len(levels)
    fig, axes = plt.subplots(n_img, n_lvl + 1, figsize=(1.45 * (n_lvl + 1), 1.6 * n_img + 0.6),
                             dpi=dpi, squeeze=False)
    for k in range(n_img):
        axes[k, 0].imshow(images[k])
        axes[k, 0].set_ylabel(maps["classes"][k], fontsize=8)
        row_max = np.abs(values[:, k]).max() or 1.0
        for j, s in enumerate(levels):
            ax = axes[k, j + 1]
            ax.imshow(np.abs(values[j, k]) / row_max, cmap="inferno", vmin=0, vmax=1)
            pred = maps["predictions"][level_key(s)]
            g = maps["gini"][method][level_key(s)][k]
            ax.set_xlabel(f"G {g:.2f} · {pred['class'][k][:10]}", fontsize=6)
            if k == 0:
                ax.set_title(f"{100 * s:.0f} %", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{method}: weights removed →  (G = Gini index of the map; prediction below)", fontsize=9)
    return captioned(fig, plot_saliency_grid, source)
