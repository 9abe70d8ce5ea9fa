"""The book's repository button (book/_ext/repository_link.py): where a build knows its repository, and that
sphinx-book-theme then draws the link (a two-line Sphinx project, built in a few seconds)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from repository_link import cite_with, commit_date, project_version, repository_url, theme_options  # noqa: E402

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


@pytest.fixture(params=[ACTIONS, {}], ids=["actions", "laptop"])
def environ(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The build's environment: a GitHub Actions build, or one that names no repository."""
    for name in (*ACTIONS, "PRUNELIB_REPOSITORY_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in request.param.items():
        monkeypatch.setenv(name, value)
    return request.param


def test_the_theme_draws_the_button_only_where_the_repository_is_known(tmp_path, environ) -> None:
    page = _build(tmp_path, "Title\n=====\n\nText.\n")
    assert ('href="https://github.com/someone/prunelib-fork"' in page) == bool(environ)


CITATION = """@misc{prunelib_reproduction,
  title        = {A Reproduction},
  year         = {2026}
}"""


def test_the_citation_gets_the_fields_the_build_knows() -> None:
    url = "https://github.com/someone/prunelib-fork"
    cited = cite_with(CITATION, {"version": "0.1.0", "date": None, "url": url})
    assert cited == CITATION[:-2] + ",\n  version      = {0.1.0},\n  url          = {" + url + "}\n}"
    assert cite_with(cited, {"url": "https://elsewhere.example"}) == cited  # a field already there is kept
    assert cite_with(CITATION, {"url": None}) == CITATION
    other = CITATION.replace("prunelib_reproduction", "suwal2025sparse")
    assert cite_with(other, {"url": url}) == other  # another entry: untouched


def test_the_version_is_the_projects_and_the_date_the_commits(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2.3.4"\n')
    assert project_version(tmp_path) == "2.3.4" and project_version(tmp_path / "none") is None
    assert commit_date(tmp_path) is None  # not a git checkout
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", commit_date(ROOT) or "")


def test_the_built_citation_names_the_repository_only_where_it_is_known(tmp_path, environ) -> None:
    block = "".join("   " + line + "\n" for line in CITATION.splitlines())
    page = _build(tmp_path, f"Title\n=====\n\n.. code-block:: bibtex\n\n{block}")
    text = re.sub(r"<[^>]+>", "", page)  # the highlighted block without its markup
    assert ("url          = {https://github.com/someone/prunelib-fork}" in text) == bool(environ)
    assert "title        = {A Reproduction}" in text


def test_the_clone_command_where_the_repository_is_known_else_a_link_to_the_source(tmp_path, environ) -> None:
    page = _build(tmp_path, "Title\n=====\n\n.. repository-clone::\n")
    text = re.sub(r"<[^>]+>", "", page)
    if environ:
        assert "git clone https://github.com/someone/prunelib-fork\ncd prunelib-fork" in text
    else:
        assert "git clone" not in text and 'href="_sources/index.rst"' in page


def _build(tmp_path: Path, index_rst: str) -> str:
    """The HTML of a one-page Sphinx project with the extension and sphinx-book-theme."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['repository_link']\nhtml_theme = 'sphinx_book_theme'\n"
        "html_theme_options = {'use_repository_button': False}\n")
    (src / "index.rst").write_text(index_rst)
    app = Sphinx(str(src), str(src), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    return (tmp_path / "html" / "index.html").read_text()
