"""Figure 5 of the paper and ours: saliency maps of a few images across pruning levels."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..measure.faithfulness import level_key
from ..measure.saliency_maps import load_maps  # noqa: F401  (the notebooks read the maps from here, to plot them)
from .style import COLUMN_IN, PHOTO_DPI


def _map_cell(ax, maps: dict, method: str, j: int, k: int, row_max: float) -> None:
    """Image ``k``'s ``method`` map at level index ``j``: its Gini index under it, and the prediction when wrong."""
    s = maps["levels"][j]
    ax.imshow(np.abs(maps[method][j, k]) / row_max, cmap="inferno", vmin=0, vmax=1)
    predicted = maps["predictions"][level_key(s)]["class"][k]
    wrong = "" if predicted == maps["classes"][k] else f"\n✗ {predicted[:9]}"
    ax.set_xlabel(f"G {maps['gini'][method][level_key(s)][k]:.2f}{wrong}", labelpad=2)


def _image_cell(ax, maps: dict, k: int) -> None:
    ax.imshow(maps["images"][k])
    ax.set_ylabel(maps["classes"][k].replace(" ", "\n", 1))


def _bare(axes) -> None:
    for ax in np.asarray(axes).flat:
        ax.set_xticks([])
        ax.set_yticks([])


def plot_saliency_grid(maps: dict, method: str, at_chance: Sequence[float] = ()) -> Figure:
    """Rows: images; columns: the image, then its ``method`` map at each level whose network is not near chance
    (``at_chance``: those left out, named in the title).

    One colour scale per row (the row's largest value maps to white), so a row shows how pruning moves and
    concentrates the attribution of one image; each map is labelled with its Gini index (G) and, when the network
    is wrong, its prediction (✗).
    """
    shown = [j for j, s in enumerate(maps["levels"]) if float(s) not in {float(c) for c in at_chance}]
    n_img = maps["images"].shape[0]
    fig, axes = plt.subplots(n_img, len(shown) + 1, figsize=(COLUMN_IN, 1.02 * n_img + 0.5), squeeze=False,
                             dpi=PHOTO_DPI)
    for k in range(n_img):
        _image_cell(axes[k, 0], maps, k)
        row_max = max(float(np.abs(maps[method][j, k]).max()) for j in shown) or 1.0
        for col, j in enumerate(shown, start=1):
            _map_cell(axes[k, col], maps, method, j, k, row_max)
            if k == 0:
                axes[k, col].set_title(f"{100 * maps['levels'][j]:.0f} %")
    _bare(axes)
    left_out = ", ".join(f"{100 * float(c):.0f} %" for c in at_chance)
    fig.suptitle(f"{method} maps; columns: weights removed" + (f" ({left_out}: at chance, not shown)" if left_out
                                                             else ""))
    return fig


def plot_saliency_pair(maps: dict, level: float, n_images: int = 3) -> Figure:
    """The dense network's maps beside those of the network at ``level``, every method, for the first
    ``n_images`` images: columns image, then (dense, pruned) per method; one colour scale per image and method."""
    methods = maps["methods"]
    j = [float(s) for s in maps["levels"]].index(float(level))
    fig, axes = plt.subplots(n_images, 1 + 2 * len(methods), figsize=(COLUMN_IN, 1.45 * n_images + 0.4),
                             dpi=PHOTO_DPI, squeeze=False)
    for k in range(n_images):
        _image_cell(axes[k, 0], maps, k)
        for m, method in enumerate(methods):
            row_max = max(float(np.abs(maps[method][i, k]).max()) for i in (0, j)) or 1.0
            for c, i in enumerate((0, j)):
                ax = axes[k, 1 + 2 * m + c]
                _map_cell(ax, maps, method, i, k, row_max)
                if k == 0:
                    ax.set_title(f"{method}, {100 * maps['levels'][i]:.0f} %")
    _bare(axes)
    return fig


def describe_maps(maps: dict, method: str, level: float) -> str:
    """A sentence on the maps of :func:`plot_saliency_grid` and :func:`plot_saliency_pair`: the mean Gini index of
    the images' ``method`` maps for the dense network and for the network at ``level``, and the largest change of
    one image's."""
    dense = np.array(maps["gini"][method][level_key(maps["levels"][0])])
    pruned = np.array(maps["gini"][method][level_key(level)])
    return (f"Over the {len(dense)} images of this chapter's grids, the {method} maps' mean Gini index is {dense.mean():.2f} for the dense "
            f"network and {pruned.mean():.2f} at {100 * level:.0f} % removed; no image's changes by more than "
            f"{np.abs(pruned - dense).max():.2f}.")
