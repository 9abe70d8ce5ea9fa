"""Local Sphinx extension of the book: the notebooks' tables numbered and captioned, as its figures are.

A notebook shows a table as the output of a code cell (``prunelib.figures.tables.table``: a pandas DataFrame). A
cell whose metadata names the table and gives its caption::

    "metadata": {"table": {"name": "tab-claims", "caption": "Each claim of the paper under each regime, ..."}}

gets its table wrapped in a node that Sphinx numbers as a table ("Table 3"), with the caption above it and the name
as its anchor (``{numref}`tab-claims```); a cell that shows several tables (one per contrast, say) gets them all
under that one number and caption. The notebook and its outputs stay as they are; a cell without that metadata is
left alone.
"""
from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

#: the key of a code cell's metadata that names and captions its table
KEY = "table"


class numbered_table(nodes.General, nodes.Element):  # noqa: N801 (docutils names its node classes in lower case)
    """A notebook cell's table outputs (raw HTML) with their caption (a ``caption`` node) first."""


def table_spec(metadata: dict[str, Any]) -> tuple[str, str] | None:
    """(name, caption) of a cell's table from its metadata; None where the cell has none. A name or caption
    missing or empty is an error naming what was expected."""
    spec = metadata.get(KEY)
    if spec is None:
        return None
    if not isinstance(spec, dict) or not str(spec.get("name", "")).strip() or not str(spec.get("caption", "")).strip():
        raise ValueError(f"a notebook cell's metadata {KEY!r} must be {{'name': ..., 'caption': ...}}, got {spec!r}")
    return str(spec["name"]).strip(), " ".join(str(spec["caption"]).split())


def _is_table(node: nodes.Node) -> bool:
    return isinstance(node, nodes.raw) and 'class="dataframe"' in node.astext()


def _number_tables(app: Sphinx, doctree: nodes.document) -> None:
    for cell in list(doctree.findall(nodes.container)):
        if cell.get("nb_element") != "cell_code":
            continue
        spec = table_spec(cell.get("cell_metadata") or {})
        if spec is None:
            continue
        name, caption = spec
        tables = list(cell.findall(_is_table))
        if not tables:
            continue
        wrapped = numbered_table("", nodes.caption(caption, caption), *(t.deepcopy() for t in tables),
                                 ids=[name], names=[name])
        tables[0].replace_self(wrapped)
        for later in tables[1:]:
            later.parent.remove(later)
        doctree.note_explicit_target(wrapped)


def _title(node: numbered_table) -> str:
    return node.children[0].astext()


def _visit(self: Any, node: numbered_table) -> None:
    self.body.append(self.starttag(node, "div", CLASS="prunelib-table"))


def _depart(self: Any, node: numbered_table) -> None:
    self.body.append("</div>\n")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_enumerable_node(numbered_table, "table", _title, html=(_visit, _depart))
    app.connect("doctree-read", _number_tables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
