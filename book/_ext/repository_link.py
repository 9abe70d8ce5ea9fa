"""Local Sphinx extension of the book: the repository button, wherever the build knows the repository.

The book is published by GitHub Actions (.github/workflows/book.yml), which tells every build where it runs:
``GITHUB_SERVER_URL`` and ``GITHUB_REPOSITORY``. There the book's top bar gets sphinx-book-theme's repository
button, a link to the repository the book was built from (so a fork's book links to the fork).
``PRUNELIB_REPOSITORY_URL`` names the repository for a build published another way. The same build gives the
book's "Cite this reproduction" entry (the BibTeX block whose key is :data:`CITATION_KEY`) a ``url`` field with
that address. Where neither is set (a laptop's ``make book``, the tests) the book has no button and its citation no
``url``: no repository address is typed into _config.yml or the book.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config

#: the key of the book's own BibTeX entry (book/intro.md, "Cite this reproduction")
CITATION_KEY = "prunelib_reproduction"


def repository_url(environ: Mapping[str, str]) -> str | None:
    """The repository the book is built from: ``PRUNELIB_REPOSITORY_URL``, else GitHub Actions'
    ``GITHUB_SERVER_URL/GITHUB_REPOSITORY``, else None."""
    named = environ.get("PRUNELIB_REPOSITORY_URL", "").strip()
    if named:
        return named.rstrip("/")
    server, repository = environ.get("GITHUB_SERVER_URL", "").strip(), environ.get("GITHUB_REPOSITORY", "").strip()
    return f"{server.rstrip('/')}/{repository}" if server and repository else None


def theme_options(options: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """``options`` (the theme's ``html_theme_options``) with the repository button turned on where
    :func:`repository_url` knows the repository; unchanged otherwise."""
    url = repository_url(environ)
    if url is None:
        return options
    return {**options, "repository_url": url, "use_repository_button": True,
            "repository_branch": environ.get("GITHUB_REF_NAME") or "main"}


def cite_with_url(bibtex: str, url: str | None) -> str:
    """``bibtex`` with a ``url`` field before the closing brace of the entry keyed :data:`CITATION_KEY`; unchanged
    where ``url`` is None, the entry is not there or already has a ``url``."""
    head = bibtex.find("{" + CITATION_KEY + ",")
    end = bibtex.rfind("}")
    if url is None or head < 0 or end < head or re.search(r"^\s*url\s*=", bibtex[head:end], re.M | re.I):
        return bibtex
    body = bibtex[:end].rstrip()
    comma = "" if body.endswith(",") else ","
    return f"{body}{comma}\n  url          = {{{url}}}\n{bibtex[end:]}"


def _cite_with_url(app: Sphinx, doctree: nodes.document) -> None:
    url = repository_url(os.environ)
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        cited = cite_with_url(text, url)
        if cited != text:
            block.rawsource = cited
            block.children = [nodes.Text(cited)]


def _add_button(app: Sphinx, config: Config) -> None:
    config.html_theme_options = theme_options(dict(config.html_theme_options or {}), os.environ)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _add_button, priority=100)
    app.connect("doctree-read", _cite_with_url)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
