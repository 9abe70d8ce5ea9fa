"""How the book's figures are drawn, so that they can be read where they are shown: its text column (672 px of
picture at 1280 px) and, enlarged by a tap, a phone.

Every figure is drawn at most :data:`COLUMN_IN` wide at :data:`DPI`, twice the pixels it is shown with in the column
(:data:`SCALE`), so that it stays sharp on a high-density screen and when enlarged; no text is smaller than
:data:`MIN_FONT_PT`, 11 px or more as shown in the column. The tests hold every ``plot_…`` function to this
(``tests/test_figure_style.py``) and the browser test checks the scale each picture is shown at
(``tests/test_browser.py``). Networks near chance are drawn apart, in grey, and never set an axis (:func:`clamped`).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib as mpl
import numpy as np

from ..pictures import FIGURE_DPI

#: pixels of picture per pixel shown: figures are drawn at twice the resolution they are shown at
SCALE = 2
#: the figures' resolution: 1 inch of figure is 100 px as shown, 200 px of picture
DPI = 100 * SCALE
#: the resolution of a figure made of photographs (a saliency grid, a concept gallery): 1 inch is 100 px, the size
#: it is shown at, where its smallest text is 11 px or more; its photographs (128 px) hold no more detail at 2x, and
#: its pictures would weigh four times as much
PHOTO_DPI = FIGURE_DPI
#: the book's text column (688 px) in inches at 100 px an inch: the widest a figure is drawn
COLUMN_IN = 6.88
#: the smallest font of any text of a figure, in points (8.5 pt: 11.8 px at 100 px an inch, 11.3 px in the column's
#: 672 px)
MIN_FONT_PT = 8.5
#: the colour and marker of a network near chance, wherever one is drawn
CHANCE = {"color": "0.6", "marker": "x", "ls": "none"}
CHANCE_LABEL = "at chance (not judged)"

RC = {"figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9,
      "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT, "legend.fontsize": MIN_FONT_PT,
      "legend.title_fontsize": MIN_FONT_PT, "figure.titlesize": 10, "figure.constrained_layout.use": True,
      "figure.figsize": (COLUMN_IN, 3.0)}


def apply() -> None:
    """Set matplotlib's defaults to the book's (done once, when :mod:`prunelib.figures` is imported)."""
    mpl.rcParams.update(RC)


def clamped(values: Sequence[float], limits: tuple[float, float]) -> np.ndarray:
    """``values`` pulled inside ``limits``: where a network near chance is drawn when its value is off the axis
    that the networks not at chance set."""
    return np.clip(np.asarray(values, dtype=float), *limits)


def limits(values: Sequence[float], pad: float = 0.08) -> tuple[float, float]:
    """The y-limits that show ``values`` (NaN ignored) with a margin of ``pad`` of their range on either side."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    low, high = float(v.min()), float(v.max())
    margin = pad * (high - low) if high > low else 0.05 * max(abs(high), 1e-3)
    return low - margin, high + margin
