"""The book: it builds with -W offline, serves its own JavaScript, and the explorer's widgets are saved.

The explorer's own unit tests are in tests/test_explorer.py. The book build (~25 s on 2 cores) runs once per
session, shared with tests/test_browser.py.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import ipywidgets as widgets
import pytest
import yaml


from prunelib import reproduce as runner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
from table_cells import is_numeric  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def build_book(base: Path) -> tuple[Path, str]:
    """Build the book once per session into ``base/book``; returns (html dir, build log)."""
    out = base / "book"
    log_file = out / "build.log"
    if not log_file.exists():
        out.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([str(JUPYTER_BOOK), "build", str(ROOT), "-W", "--keep-going", "--path-output",
                               str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
        text = re.sub(r"\x1b\[[0-9;]*m", "", f"{proc.stdout}\n{proc.stderr}")  # no colour codes
        log_file.write_text(f"returncode {proc.returncode}\n{text}")
    return out / "_build" / "html", log_file.read_text()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return build_book(tmp_path_factory.getbasetemp())


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def test_book_builds_without_warnings(book: tuple[Path, str]) -> None:
    html, log = book
    problems = [ln for ln in log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", ln)]
    assert log.startswith("returncode 0"), "jupyter-book build -W failed:\n" + "\n".join(problems or [log[-3000:]])
    assert not problems, "\n".join(problems)
    for doc in _toc_files():
        assert (html / f"{doc}.html").is_file(), f"{doc} is in _toc.yml but was not rendered"


def test_the_answer_comes_first_then_one_training_run() -> None:
    """Right after the landing page come the verdict chapters (is it noise? what the authors' code did); the
    chapters that follow seed 0 alone come after them, under a caption that says so."""
    parts = yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]
    assert [c["file"] for c in parts[0]["chapters"]] == ["book/notebooks/07_noise", "book/notebooks/08_authors_code"]
    assert parts[1]["caption"] == "A closer look at one training run"
    assert {c["file"] for c in parts[1]["chapters"]} == {f"book/notebooks/0{i}_{name}" for i, name in (
        (1, "training"), (2, "saliency"), (3, "faithfulness"), (4, "concepts"), (5, "explorer"),
        (6, "paper_vs_reproduction"))}


#: what a page shows where an output had no form the book can render: Python's repr of the object
REPR = re.compile(r"<[\w.]+ object(?: at 0x[0-9a-f]+)?>")


def test_no_page_shows_a_python_repr_instead_of_its_content(book: tuple[Path, str]) -> None:
    """A glued output pasted into another page (the landing page's abstract) must carry a form that cross-page glue
    renders (HTML, an image, text): a Markdown object alone shows as ``<IPython.core.display.Markdown object>``."""
    html, _ = book
    found = set()
    for page in (p for p in html.rglob("*.html") if "_static" not in p.parts):
        text = unescape(re.sub(r"<[^>]+>", "", page.read_text()))  # highlighted code splits the repr into spans
        found |= {f"{page.relative_to(html)}: {m}" for m in REPR.findall(text)}
    assert not found, sorted(found)


def test_protocol_page_shows_the_settings_of_every_profile(book: tuple[Path, str]) -> None:
    """The {profile-settings} table (book/_ext/profile_settings.py) is rendered from prunelib/profiles.yaml."""
    html, _ = book
    page = (html / "book/protocol.html").read_text()
    start = re.search(r'<table class="[^"]*\bprofile-settings\b', page)
    assert start, "no table of profile settings on the protocol page"
    table = page[start.start():page.index("</table>", start.start())]
    header = re.findall(r"<th[^>]*>\s*<p>([^<]*)</p>", table)
    assert header == ["setting", *yaml.safe_load((ROOT / "prunelib/profiles.yaml").read_text())]
    assert "<code" in table and "image_size" in table


def test_the_text_cells_of_the_notebooks_tables_are_marked_and_only_they(book: tuple[Path, str]) -> None:
    """book/_ext/table_cells.py marks a table's cells of text (``td.text``, aligned left by the CSS); the cells of
    numbers stay plain (aligned right). Chapters 6 and 7 hold text cells (settings, verdicts)."""
    html, _ = book
    marked, wrong = {}, []
    for page in sorted((html / "book/notebooks").glob("*.html")):
        for table in re.findall(r'<table[^>]*class="dataframe".*?</table>', page.read_text(), re.S):
            for cls, text in re.findall(r"<td( class=\"text\")?>(.*?)</td>", table, re.S):
                marked[page.stem] = marked.get(page.stem, 0) + bool(cls)
                if bool(cls) == is_numeric(unescape(text)):
                    wrong.append(f"{page.name}: {text!r} is {'marked' if cls else 'not marked'}")
    assert not wrong, wrong[:10]
    assert marked.get("06_paper_vs_reproduction") and marked.get("07_noise"), marked


def test_pages_load_nothing_from_other_hosts(book: tuple[Path, str]) -> None:
    """No <script src>, stylesheet or image points off the site: the book must work offline (no CDN)."""
    html, _ = book
    pages = sorted(html.rglob("*.html"))
    assert len(pages) >= len(_toc_files())
    remote = re.compile(r"""^(?:https?:)?//""")
    offenders = {}
    for page in pages:
        for tag, attrs in re.findall(r"<(script|img|iframe|link|source|video|audio)\b([^>]*)>", page.read_text()):
            url = re.search(r"""\s(?:src|href)=["']([^"']*)["']""", attrs)
            loads = tag != "link" or re.search(r"""rel=["'](?:stylesheet|preload|modulepreload|icon)""", attrs)
            if url and loads and remote.match(url.group(1)):
                offenders.setdefault(page.relative_to(html).as_posix(), []).append(url.group(1))
    assert not offenders


def test_widget_js_only_where_widgets_are(book: tuple[Path, str]) -> None:
    """The vendored html-manager is added to pages holding widget state and to no other page."""
    html, _ = book
    for page in html.rglob("*.html"):
        text = page.read_text()
        has_state = f'type="{WIDGET_STATE}"' in text
        loads_js = "_static/widgets/embed.js" in text
        assert has_state == loads_js, f"{page.relative_to(html)}: widget state {has_state}, embed.js {loads_js}"
    explorer_page = (html / "book/notebooks/05_explorer.html").read_text()
    assert f'type="{WIDGET_STATE}"' in explorer_page
    assert "application/vnd.jupyter.widget-view+json" in explorer_page
    assert (html / "_static/widgets/embed.js").stat().st_size > 500_000
    assert "require.min.js" not in explorer_page and "embed-amd" not in explorer_page


def test_vendored_js_matches_installed_packages() -> None:
    """ipywidgets 8.1.x pairs with @jupyter-widgets/html-manager 1.0.x; package.json, the lock and the files agree."""
    assert widgets.__version__.startswith("8.1."), f"re-vendor the html-manager for ipywidgets {widgets.__version__}"
    pkg = json.loads((ROOT / "tools/package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "tools/package-lock.json").read_text())["packages"]
    manager = pkg["@jupyter-widgets/html-manager"]
    assert manager.startswith("1.0."), manager
    assert lock["node_modules/@jupyter-widgets/html-manager"]["version"] == manager
    assert lock["node_modules/mathjax"]["version"] == pkg["mathjax"]
    static = ROOT / "book/_static"
    assert f"html-manager {manager}:" in (static / "widgets/VERSION").read_text()
    assert f"mathjax {pkg['mathjax']}:" in (static / "mathjax/VERSION").read_text()
    total = sum(f.stat().st_size for f in static.rglob("*") if f.is_file())
    assert total < 4_500_000, f"book/_static holds {total / 1e6:.1f} MB of vendored files"


def test_every_notebook_is_executed_and_in_the_toc() -> None:
    """Each source in notebooks/ (no outputs; first code cell tagged `parameters`, smoke defaults) has an
    executed copy in book/notebooks/ that _toc.yml lists."""
    toc = set(_toc_files())
    sources = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert sources, "no notebooks found"
    for src in sources:
        nb = json.loads(src.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), \
            f"{src.name}: commit notebook sources without outputs"
        assert "parameters" in code[0].get("metadata", {}).get("tags", []), f"{src.name}: first code cell must be tagged parameters"
        default = re.search(r"^profile\s*=\s*[\"'](\w+)[\"']", "".join(code[0]["source"]), re.M)
        stage = {notebook: name for name, notebook in runner.STAGES}[src.name]
        # smoke, which the notebooks before it compute; or the book profile whose committed results the chapter
        # only draws (profiles.yaml's `stages`, e.g. the noise sweep's chapter)
        allowed = {"smoke"} | {p for p in runner.BOOK_PROFILES
                               if stage in str(runner.load_profile(p).get("stages", "")).split(",")}
        assert default and default.group(1) in allowed, \
            f"{src.name}: the parameters cell must default to profile = one of {sorted(allowed)}"
        assert (ROOT / "book/notebooks" / src.name).is_file(), f"{src.name}: no executed copy in book/notebooks/"
        assert f"book/notebooks/{src.stem}" in toc, f"{src.name}: the executed copy is not in _toc.yml"


def test_executed_explorer_saves_linked_widget_state() -> None:
    """papermill stored the widget state: Stacks, two sliders, jslinks and the pictures (WebP or JPEG data URLs in
    the panels, not PNG), so no kernel is needed."""
    nb = json.loads((ROOT / "book/notebooks/05_explorer.ipynb").read_text())
    state = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    models = [m["model_name"] for m in state.values()]
    assert models.count("LinkModel") >= 3 and "StackModel" in models and models.count("SelectionSliderModel") == 2
    panels = " ".join(m["state"].get("value", "") for m in state.values() if m["model_name"] == "HTMLModel")
    pictures = re.findall(r"src='data:image/(\w+);base64,", panels)
    assert len(pictures) >= 4 and set(pictures) <= {"webp", "jpeg"}, f"pictures: {sorted(set(pictures))}"
    links = [m["state"] for m in state.values() if m["model_name"] == "LinkModel"]
    targets = {state[lk["target"][0].removeprefix("IPY_MODEL_")]["model_name"] for lk in links}
    assert targets == {"StackModel"}


def test_the_citation_file_license_and_book_entry_agree() -> None:
    """CITATION.cff, pyproject.toml and the book's BibTeX entry name one title, one author and one version; the
    LICENSE is the code's (MIT, as pyproject says) and states the data's terms."""
    import tomllib
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    entry = (ROOT / "book" / "intro.md").read_text().split("@misc{prunelib_reproduction,", 1)[1].split("\n}", 1)[0]
    field = {m.group(1): m.group(2) for m in re.finditer(r"^\s*(\w+)\s*=\s*\{(.*)\},?$", entry, re.M)}
    assert cff["version"] == project["version"] and cff["license"] == project["license"] == "MIT"
    assert field["title"] == cff["title"] and field["author"] == "{" + cff["authors"][0]["name"] + "}"
    assert "version" not in field and "url" not in field  # the build adds them (book/_ext/repository_link.py)
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "non-commercial research" in license_text
