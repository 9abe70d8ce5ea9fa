"""Local Sphinx extension of the book: a caption's provenance line, set apart, with its results files to download.

A figure's caption ends with its provenance line (``prunelib.figures.captions.source_line``): which function drew it
from which results files (``results/noise/summary.csv``, ...). Each such file that is in the project is made a
download link there, as ``{download}`` would make it, so the numbers behind every figure are one click away; a file
named but absent stays plain text. The line itself is marked ``provenance`` (the CSS sets it on a line of its own,
in smaller type), so that the caption reads as what the figure shows.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

#: the class of a caption's provenance line
PROVENANCE = "provenance"
#: a results file as a provenance line names it, relative to the project
RESULTS_FILE = re.compile(r"\bresults/[\w.+/-]+\.(?:json|csv|npz|webp|png|jpg)\b")


def split_files(text: str, exists) -> list[tuple[str, bool]]:
    """``text`` cut into pieces ``(piece, is_a_file)``: each results file that ``exists(path)`` its own piece."""
    pieces, at = [], 0
    for match in RESULTS_FILE.finditer(text):
        if exists(match.group(0)):
            pieces += [(text[at:match.start()], False), (match.group(0), True)]
            at = match.end()
    pieces.append((text[at:], False))
    return [(piece, is_file) for piece, is_file in pieces if piece]


def _link_files(app: Sphinx, doctree: nodes.document) -> None:
    root = Path(app.srcdir)
    docname = app.env.docname
    for caption in doctree.findall(nodes.caption):
        for text in list(caption.findall(nodes.Text)):
            pieces = split_files(text.astext(), lambda path: (root / path).is_file())
            if not any(is_file for _, is_file in pieces):
                continue
            new = [addnodes.download_reference(piece, "", nodes.literal(piece, piece, classes=["xref", "download"]),
                                               reftarget="/" + piece, refdoc=docname, refexplicit=True,
                                               refdomain="", reftype="download")
                   if is_file else nodes.Text(piece) for piece, is_file in pieces]
            parent = text.parent
            index = parent.index(text)
            parent.remove(text)
            for offset, node in enumerate(new):
                parent.insert(index + offset, node)


def _mark_provenance(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for caption in doctree.findall(nodes.caption):
        for pasted in caption.findall(nodes.inline):
            if PROVENANCE in pasted.get("classes", []) or not pasted.astext().startswith("Drawn by "):
                continue
            pasted["classes"].append(PROVENANCE)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", _link_files, priority=400)  # before Sphinx collects the downloads (priority 500)
    app.connect("doctree-resolved", _mark_provenance)  # glue from other pages pasted by then
    return {"parallel_read_safe": True, "parallel_write_safe": True}
