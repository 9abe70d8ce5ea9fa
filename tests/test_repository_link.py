"""The book's repository button (book/_ext/repository_link.py): where a build knows its repository, and that
sphinx-book-theme then draws the link (a two-line Sphinx project, built in a few seconds)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from repository_link import repository_url, theme_options  # noqa: E402

ACTIONS = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "someone/prunelib-fork",
           "GITHUB_REF_NAME": "main"}


@pytest.mark.parametrize("environ, expected", [
    (ACTIONS, "https://github.com/someone/prunelib-fork"),
    ({**ACTIONS, "PRUNELIB_REPOSITORY_URL": "https://git.example.org/lab/book/"}, "https://git.example.org/lab/book"),
    ({"GITHUB_REPOSITORY": "someone/prunelib-fork"}, None),  # no server: not a GitHub Actions build
    ({}, None),
])
def test_the_repository_is_the_one_the_build_names(environ: dict, expected: str | None) -> None:
    assert repository_url(environ) == expected


def test_without_a_repository_the_options_are_left_as_they_are() -> None:
    options = {"use_repository_button": False, "launch_buttons": {}}
    assert theme_options(options, {}) is options
    on = theme_options(options, {**ACTIONS, "GITHUB_REF_NAME": "pages"})
    assert on["use_repository_button"] and on["repository_branch"] == "pages" and on["launch_buttons"] == {}


@pytest.mark.parametrize("environ", [ACTIONS, {}])
def test_the_theme_draws_the_button_only_where_the_repository_is_known(tmp_path, monkeypatch, environ) -> None:
    for name in (*ACTIONS, "PRUNELIB_REPOSITORY_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['repository_link']\nhtml_theme = 'sphinx_book_theme'\n"
        "html_theme_options = {'use_repository_button': False}\n")
    (src / "index.rst").write_text("Title\n=====\n\nText.\n")
    app = Sphinx(str(src), str(src), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    page = (tmp_path / "html" / "index.html").read_text()
    assert ('href="https://github.com/someone/prunelib-fork"' in page) == bool(environ)
