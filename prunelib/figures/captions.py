"""How a notebook shows a figure: numbered and captioned by the book, the provenance line in its caption.

:func:`show` draws a figure with a ``plot_…`` function and glues it under a name for a MyST figure of the page::

    captions.show("fig-gini", drawn_from, fig.plot_gini, m, reference=paper)   # in a code cell tagged remove-output

    ```{glue:figure} fig-gini
    :name: fig-gini

    What the figure shows. {glue:text}`fig-gini-source`
    ```

Beside the figure it glues ``<name>-source``: which function drew it from which results file, and where their
numbers come from (:func:`prunelib.provenance.figure_caption`), the caption's last sentence. In Jupyter the cell
shows the figure; in the book the cell's output is removed and the MyST figure shows it, numbered.
"""
from __future__ import annotations

from typing import Any, Callable

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..provenance import Source, figure_caption


def source_line(plot: Callable[..., Figure], source: Source) -> str:
    """The caption's provenance sentence for a figure drawn by ``plot`` from ``source``'s files (one line)."""
    return figure_caption(plot, source).replace("\n", " · ") + "."


def show(name: str, source: Source, plot: Callable[..., Figure], *args: Any, **kwargs: Any) -> Figure:
    """Draw ``plot(*args, **kwargs)``, glue the figure as ``name`` and its provenance as ``name-source``.

    Returns the figure (closed: pyplot does not show it a second time).
    """
    from myst_nb import glue  # the book's dependency; imported here so that the figures draw without it

    fig = plot(*args, **kwargs)
    glue(name, fig)
    glue(f"{name}-source", source_line(plot, source), display=False)
    plt.close(fig)
    return fig
