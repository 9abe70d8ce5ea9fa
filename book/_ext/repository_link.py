"""Local Sphinx extension of the book: the repository button, wherever the build knows the repository.

The book is published by GitHub Actions (.github/workflows/book.yml), which tells every build where it runs:
``GITHUB_SERVER_URL`` and ``GITHUB_REPOSITORY``. There the book's top bar gets sphinx-book-theme's repository
button, a link to the repository the book was built from (so a fork's book links to the fork).
``PRUNELIB_REPOSITORY_URL`` names the repository for a build published another way. Where neither is set (a
laptop's ``make book``, the tests) the book has no such button: no repository address is typed into _config.yml.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config


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


def _add_button(app: Sphinx, config: Config) -> None:
    config.html_theme_options = theme_options(dict(config.html_theme_options or {}), os.environ)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _add_button, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
