"""Local Sphinx extension of the book: in the notebooks' tables, numbers align right and text aligns left.

A notebook shows its tables (``prunelib.figures.tables.table``) as pandas renders a DataFrame: a
``<table class="dataframe">`` whose cells are all plain ``<td>``, numbers and text alike. The book's CSS
(book/_static/prunelib.css) right-aligns the cells in digits of one width, so that a column's decimals line up; a
cell of text (a verdict, a protocol setting, a date) reads from the left. This extension marks each cell of text
``<td class="text">`` in the rendered page, and the CSS aligns those left. It changes no notebook: the executed
notebooks, their outputs and the stages' fingerprints stay as they are.
"""
from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

#: a number as prunelib.figures.tables.cell writes it (a percentage may carry its sign), or the missing-value dash
_NUMBER = r"[−+-]?\d+(?:\.\d+)?(?: ?%)?"
NUMERIC = re.compile(rf"{_NUMBER}(?:, {_NUMBER})*|—")
_DATAFRAME = re.compile(r"<table\b[^>]*\bclass=\"dataframe\"[^>]*>.*?</table>", re.S)
_CELL = re.compile(r"<td>(.*?)</td>", re.S)
_ROW_HEADER = re.compile(r"<th>(.*?)</th>", re.S)
#: a cell of text longer than this wraps in a column wide enough to read (``class="long"``), never in one of a few
#: letters; a shorter one keeps its column narrow
LONG = 24


def is_numeric(text: str) -> bool:
    """Whether a cell's text is a number, a list of numbers (``"0, 10, 20"``) or the missing-value dash."""
    return NUMERIC.fullmatch(text.strip()) is not None


def _classes(text: str) -> str:
    return "text long" if len(re.sub(r"<[^>]+>", "", text).strip()) > LONG else "text"


def mark_text_cells(html: str) -> str:
    """``html`` with each cell of text in a pandas table (``class="dataframe"``) marked ``<td class="text">``, and
    each cell or row header of more than :data:`LONG` characters also ``long``; cells of numbers, and everything
    outside such tables, are left as they are."""
    def cells(table: re.Match) -> str:
        marked = _CELL.sub(lambda c: c.group(0) if is_numeric(c.group(1))
                           else f'<td class="{_classes(c.group(1))}">{c.group(1)}</td>', table.group(0))
        return _ROW_HEADER.sub(lambda c: f'<th class="long">{c.group(1)}</th>' if "long" in _classes(c.group(1))
                               else c.group(0), marked)
    return _DATAFRAME.sub(cells, html)


def _mark_tables(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(nodes.raw)):
        if "html" in node.get("format", "").split() and 'class="dataframe"' in node.astext():
            marked = mark_text_cells(node.astext())
            node.replace(node.children[0], nodes.Text(marked))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-resolved", _mark_tables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
