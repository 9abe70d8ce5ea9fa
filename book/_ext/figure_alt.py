"""Local Sphinx extension of the book: every figure's picture says what it shows to a reader who cannot see it.

A notebook's figure is glued (``{glue:figure}``) without alt text, and Sphinx then writes the picture's file name
(a hash) as its ``alt``. A caption of the book leads with what its figure shows, so a picture with no alt text of
its own gets its figure's first sentence (:func:`first_sentence`), the provenance line left out. Alt text written
in the source (``:alt:``) stays as it is.
"""
from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*(])")
#: the caption's provenance line (prunelib.figures.captions.source_line), never alt text
PROVENANCE = "Drawn by "


def first_sentence(caption: str) -> str:
    """The first sentence of ``caption``, on one line, without the provenance line."""
    text = " ".join(caption.split())
    text = text.split(PROVENANCE, 1)[0].strip()
    return _SENTENCE_END.split(text, 1)[0].strip()


def _describe_pictures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for figure in doctree.findall(nodes.figure):
        caption = next(figure.findall(nodes.caption), None)
        if caption is None:
            continue
        said = first_sentence(caption.astext())
        for image in figure.findall(nodes.image):
            if said and not image.get("alt"):
                image["alt"] = said


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-resolved", _describe_pictures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
