"""The book: it builds with -W offline, serves its own JavaScript, and the explorer's widgets are saved.

Also unit tests of :mod:`prunelib.figures.explorer` (the kernel-free slider and the live explorer).
The book build (~25 s on 2 cores) runs once per session, shared with tests/test_browser.py.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pytest
import yaml

from prunelib import reproduce as runner
from prunelib.figures import explorer

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
    """papermill stored the widget state: Stacks, jslinks and one PNG per frame, so no kernel is needed."""
    nb = json.loads((ROOT / "book/notebooks/05_explorer.ipynb").read_text())
    state = nb["metadata"]["widgets"][WIDGET_STATE]["state"]
    models = [m["model_name"] for m in state.values()]
    assert models.count("LinkModel") >= 3 and "StackModel" in models and "IntSliderModel" in models
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert len(images) >= 4 and all(m.get("buffers") for m in images)
    links = [m["state"] for m in state.values() if m["model_name"] == "LinkModel"]
    targets = {state[lk["target"][0].removeprefix("IPY_MODEL_")]["model_name"] for lk in links}
    assert targets == {"StackModel"}


# ---- prunelib.figures.explorer ---------------------------------------------------------------------------


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((4, 5, 3), i / max(n - 1, 1)) for i in range(n)]


def test_to_png_roundtrip_and_errors() -> None:
    from io import BytesIO

    from PIL import Image

    png = explorer.to_png(np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert np.array_equal(np.asarray(Image.open(BytesIO(png))), np.arange(12).reshape(3, 4))
    assert explorer.to_png(png) == png
    with pytest.raises(ValueError, match="picture"):
        explorer.to_png(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="not a PNG"):
        explorer.to_png(b"GIF89a")


def test_static_slider_links_slider_to_images_and_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    links = []
    real_jslink = widgets.jslink
    monkeypatch.setattr(widgets, "jslink", lambda a, b: links.append((a, b)) or real_jslink(a, b))
    box = explorer.static_slider(_frames(3), ["a", "b", "c"], description="Pruned")
    (slider, captions), pictures = box.children[0].children, box.children[1]
    assert (slider.min, slider.max, slider.value) == (0, 2, 0)
    assert [c.value for c in captions.children] == ["a", "b", "c"]
    assert len({im.value for im in pictures.children}) == 3  # three different pictures
    assert links == [((slider, "value"), (pictures, "selected_index")), ((slider, "value"), (captions, "selected_index"))]
    slider.value = 2  # jslink is client-side only: the Python side must not need a kernel round trip
    assert pictures.selected_index == 0
    with pytest.raises(ValueError, match="labels"):
        explorer.static_slider(_frames(2), ["one"])


def test_frames_save_load_roundtrip(tmp_path: Path) -> None:
    levels, methods = [0.0, 0.3, 0.975], ["VG", "IG"]
    frames = {(p, m): np.full((3, 3, 3), p) for p in levels for m in methods}
    explorer.save_explorer_frames(tmp_path, levels, methods, frames, caption="c")
    assert (tmp_path / "level_97.5_IG.png").is_file() and (tmp_path / "level_00_VG.png").is_file()
    got = explorer.load_explorer_frames(tmp_path)
    assert got.levels == levels and got.methods == methods and got.caption == "c"
    assert got.labels[1] == "30 % of weights removed"
    assert got.png["IG"][2] == explorer.to_png(frames[(0.975, "IG")])
    box = explorer.static_explorer(got)
    toggle, methods_stack = box.children[0], box.children[2]
    assert toggle.options == ("VG", "IG") and len(methods_stack.children) == 2
    with pytest.raises(ValueError, match="missing the frame"):
        explorer.save_explorer_frames(tmp_path, [0.5], ["VG"], frames)
    with pytest.raises(FileNotFoundError, match="index.json"):
        explorer.load_explorer_frames(tmp_path / "nowhere")


def test_live_explorer_calls_render_on_every_change() -> None:
    calls = []

    def render(i: int, method: str, level: float):
        calls.append((i, method, level))
        return np.full((2, 2), level), {"prediction": f"class {i}", "gini": level / 2}

    box = explorer.live_explorer(render, ["x", "y"], [0.0, 0.5, 0.9], methods=("VG", "IG"))
    (image, method), level, picture, info = box.children[0].children, *box.children[1:]
    first = picture.value
    level.value = 2
    assert calls[-1] == (0, "VG", 0.9) and picture.value != first and "0.45" in info.value
    method.value, image.value = "IG", 1
    assert calls[-1] == (1, "IG", 0.9) and "class 1" in info.value
    with pytest.raises(ValueError, match="image_names"):
        explorer.live_explorer(render, [], [0.0])
