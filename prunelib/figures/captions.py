"""The line under every figure of the book: the function that drew it, the results file(s) it read, and where
their numbers come from (:func:`prunelib.provenance.figure_caption`), wrapped to the figure's width."""
from __future__ import annotations

import textwrap
from typing import Callable

from matplotlib.figure import Figure

from ..provenance import Source, figure_caption

FONTSIZE = 7
#: the book's text column (688 px) in inches at the figures' 100 dpi: the widest a figure is drawn for
COLUMN_IN = 6.9
#: the width of an average character of the caption, in points per point of font size (DejaVu Sans, generous)
CHAR_WIDTH = 0.62


def caption_lines(fig: Figure, plot: Callable, source: Source | None) -> list[str]:
    """The caption of ``plot``'s figure, cut into lines that fit the figure's width (none without a source)."""
    if source is None:
        return []
    width = int((fig.get_figwidth() * 72 - 10) / (CHAR_WIDTH * FONTSIZE))
    return [part for line in figure_caption(plot, source).splitlines()
            for part in textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)]


def caption_height(fig: Figure, plot: Callable, source: Source | None) -> float:
    """The fraction of ``fig``'s height that the caption of ``plot`` takes (0 without a source)."""
    lines = len(caption_lines(fig, plot, source))
    return (lines * 1.2 * FONTSIZE + 6) / 72 / fig.get_figheight() if lines else 0.0


def captioned(fig: Figure, plot: Callable, source: Source | None, above: float = 0.0) -> Figure:
    """Write the caption of ``plot``'s figure at its bottom left and lay the figure out above it.

    ``above`` keeps that fraction of the figure's height free between the caption and the axes (for a figure
    legend placed there). Without a ``source`` the figure gets no caption.
    """
    lines = caption_lines(fig, plot, source)
    if lines:
        fig.text(0.01, 0.005, "\n".join(lines), fontsize=FONTSIZE, ha="left", va="bottom", linespacing=1.2)
    fig.tight_layout(rect=(0, min(caption_height(fig, plot, source) + above, 0.5), 1, 1))
    return fig
