"""Local Sphinx extension of the book: the repository button, the clone command and the citation, wherever the
build knows the repository.

The book is published by GitHub Actions (.github/workflows/book.yml), which tells every build where it runs:
``GITHUB_SERVER_URL`` and ``GITHUB_REPOSITORY``. There the book's top bar gets sphinx-book-theme's repository
button, a link to the repository the book was built from (so a fork's book links to the fork), and the reproduce
page's ``{repository-clone}`` directive the ``git clone`` command of that repository. ``PRUNELIB_REPOSITORY_URL``
names the repository for a build published another way. The book's "Cite this reproduction" entry (the BibTeX
block whose key is :data:`CITATION_KEY`) gets the fields the build knows: ``url`` (that address), ``version``
(pyproject.toml's) and ``date`` (the day of the commit the book is built from). Where no repository is named (a
laptop's ``make book``, the tests) the book has no button, the clone command is a plain link to the page's source
and the citation no ``url``: no repository address is typed into _config.yml or the book.
"""
from __future__ import annotations

import os
import re
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util.docutils import SphinxDirective

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


def cite_with(bibtex: str, fields: Mapping[str, str | None]) -> str:
    """``bibtex`` with each of ``fields`` (name: value) added before the closing brace of the entry keyed
    :data:`CITATION_KEY`, in their order; a field whose value is None, or that the entry already has, is left out;
    ``bibtex`` unchanged where the entry is not there."""
    head = bibtex.find("{" + CITATION_KEY + ",")
    end = bibtex.rfind("}")
    if head < 0 or end < head:
        return bibtex
    added = [f"  {name:<12} = {{{value}}}" for name, value in fields.items()
             if value is not None and not re.search(rf"^\s*{name}\s*=", bibtex[head:end], re.M | re.I)]
    if not added:
        return bibtex
    body = bibtex[:end].rstrip()
    comma = "" if body.endswith(",") else ","
    return f"{body}{comma}\n" + ",\n".join(added) + f"\n{bibtex[end:]}"


def project_version(root: Path) -> str | None:
    """The project's version in ``root/pyproject.toml``, or None where there is none."""
    file = root / "pyproject.toml"
    return tomllib.loads(file.read_text()).get("project", {}).get("version") if file.is_file() else None


def commit_date(root: Path) -> str | None:
    """The day (YYYY-MM-DD) of the commit checked out at ``root``, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%cs"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    day = out.stdout.strip()
    return day if out.returncode == 0 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) else None


def _complete_citation(app: Sphinx, doctree: nodes.document) -> None:
    root = Path(app.srcdir)
    fields = {"version": project_version(root), "date": commit_date(root), "url": repository_url(os.environ)}
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        cited = cite_with(text, fields)
        if cited != text:
            block.rawsource = cited
            block.children = [nodes.Text(cited)]


class RepositoryClone(SphinxDirective):
    """``{repository-clone}``: the commands that fetch the book's repository, where the build knows it; else a
    sentence with a link to the page's own source."""

    def run(self) -> list[nodes.Node]:
        url = repository_url(os.environ)
        if url is not None:
            folder = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
            commands = f"git clone {url}\ncd {folder}"
            block = nodes.literal_block(commands, commands, language="bash")
            return [block]
        source = Path(self.env.doc2path(self.env.docname)).relative_to(self.env.srcdir).as_posix()
        suffix = self.config.html_sourcelink_suffix or ""  # as Sphinx names the copy it publishes
        source += "" if source.endswith(suffix) else suffix
        up = "../" * self.env.docname.count("/")
        link = nodes.reference("source", "source", refuri=f"{up}_sources/{source}")
        return [nodes.paragraph("", "", nodes.Text("From where this book is published (this build does not name its "
                                                   "repository; the "), link, nodes.Text(" of this page is part of it)."))]


def _add_button(app: Sphinx, config: Config) -> None:
    config.html_theme_options = theme_options(dict(config.html_theme_options or {}), os.environ)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _add_button, priority=100)
    app.connect("doctree-read", _complete_citation)
    app.add_directive("repository-clone", RepositoryClone)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
