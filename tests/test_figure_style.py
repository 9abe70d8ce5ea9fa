"""Every figure of the book can be read in its 688 px column: drawn at the style's resolution, no wider than the
column, with no text under the style's smallest font (11 px as shown), at most three panels a row; and a network
near chance never sets an axis (:mod:`prunelib.figures.style`). The browser test checks the scale each picture is
shown at; together they bound the size of every letter a reader sees."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from prunelib.figures import faithfulness, noise, style  # noqa: E402
from test_figure_captions import DRAW, _metrics, _noise  # noqa: E402

#: the image grids: one column per level or crop, not panels of plots
GRIDS = {"plot_saliency_grid", "plot_saliency_pair", "plot_concept_gallery", "plot_gallery_pair"}


def visible_texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", sorted(DRAW))
def test_a_figure_fits_the_column_with_readable_text(name: str) -> None:
    fig = DRAW[name]()
    fig.canvas.draw()
    assert fig.dpi == (style.PHOTO_DPI if name in GRIDS else style.DPI)
    assert fig.get_figwidth() <= style.COLUMN_IN + 1e-6, f"{name} is {fig.get_figwidth():.2f} in wide"
    small = {t.get_text()[:30]: t.get_fontsize() for t in visible_texts(fig) if t.get_fontsize() < style.MIN_FONT_PT}
    assert not small, f"{name} has text under {style.MIN_FONT_PT} pt: {small}"
    if name not in GRIDS:
        rows: dict[float, int] = {}
        for ax in fig.axes:
            if ax.get_visible() and ax.axison:
                top = round(ax.get_position().y1, 2)
                rows[top] = rows.get(top, 0) + 1
        assert max(rows.values()) <= 3, f"{name} puts {max(rows.values())} panels in a row"
    plt.close(fig)


def test_the_text_size_contract_holds_at_the_column_width() -> None:
    """Drawn at twice the pixels it is shown with, a figure no wider than the 688 px column keeps its smallest text
    at 11 px or more when shown in the 672 px its picture gets at 1280 px."""
    assert style.DPI == 2 * 100
    natural = style.MIN_FONT_PT * style.DPI / 72
    assert natural * 672 / (style.COLUMN_IN * style.DPI + 20) >= 11  # 20 px: what a tight bounding box may add
    assert style.COLUMN_IN * 100 <= 688


def test_a_network_at_chance_is_drawn_grey_and_does_not_set_the_axis() -> None:
    m = _metrics()
    far = {"estimate": 5.0, "low": 4.9, "high": 5.1}  # a network at chance whose mean Gini is far off the others
    for method in m["methods"]:
        m["methods"][method]["0.9"] = {**m["methods"][method]["0.5"], "gini_mean": far}
    m["levels"].append(0.9)
    m["shared_levels"] = [0.0, 0.5]
    fig = faithfulness.plot_gini(m)
    ax = fig.axes[0]
    assert ax.get_ylim()[1] < 1, "the level at chance set the axis"
    grey = [line for line in ax.get_lines() if line.get_label() == style.CHANCE_LABEL]
    assert len(grey) == 1 and list(grey[0].get_xdata()) == [90.0]
    assert grey[0].get_ydata()[0] == pytest.approx(ax.get_ylim()[1]), "drawn on the axis' edge"
    plt.close(fig)


def test_the_noise_figure_leaves_networks_at_chance_out_of_its_means_and_axes() -> None:
    df = _noise()
    rows = [{"regime": "global", "seed": 0, "network": "pruned", "level": 98.0, "metric": metric, "value": v,
             "ci_low": v, "ci_high": v, "n_images": 0} for metric, v in (("top1", 0.1), ("gini_vg", 3.0))]
    df = pd.concat([df, pd.DataFrame(rows)], ignore_index=True)
    fig = noise.plot_noise(df)
    gini = next(ax for ax in fig.axes if ax.get_title() == "Gini, VG")
    assert gini.get_ylim()[1] < 1
    means = [line for line in gini.get_lines() if line.get_label() == noise.line_label("global", [0])]
    assert 98.0 not in np.asarray(means[0].get_xdata())
    plt.close(fig)
