"""The rendered book in a real browser (Debian's headless chromium, driven by playwright; no download).

Served from 127.0.0.1; every request to another host is blocked and reported, so a CDN dependency fails the
test. The explorer's two sliders and its image buttons must swap the pictures with no kernel, and no page may
log a console error or show a broken image. At 1280 px no text is under 11 px, figures' letters included; at
390 px no page is wider than the screen, no table breaks a word or a number or runs past three screens, and every
figure enlarges on a tap. Each page's weight is printed (``-s``; ``BOOK_PAGE_WEIGHTS=FILE`` keeps it as JSON). Set ``BOOK_SCREENSHOTS=PREFIX`` to keep screenshots of the explorer,
at the dense level and at the most pruned one (``PREFIX_dense.png``, ``PREFIX_pruned.png``), and of the paper vs
reproduction table (``PREFIX_table.png``): ``BOOK_SCREENSHOTS=results/screenshots/cpu pytest tests/test_browser.py``.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import pytest

from test_book import build_book

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no chromium at /usr/bin/chromium (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")

EXPLORER = "book/notebooks/05_explorer.html"
COMPARISON = "book/notebooks/06_paper_vs_reproduction.html"
#: the data URLs of the explorer's visible pictures, in page order
VISIBLE_IMAGES = """() => [...document.querySelectorAll('.prunelib-static-explorer img')]
  .filter(i => i.offsetParent !== null).map(i => i.src)"""
#: the slider readouts (level, pixels removed) and the visible panels' text
VISIBLE_TEXT = """() => [...document.querySelectorAll('.prunelib-static-explorer .widget-readout, '
  + '.prunelib-static-explorer .widget-html')].filter(e => e.offsetParent !== null).map(e => e.innerText)"""
BROKEN_IMAGES = """async () => {
  const bad = [];
  for (const img of document.images) {
    if (img.complete && img.naturalWidth === 0 && img.src) bad.push(img.src);
    else if (!img.complete && img.src.startsWith('http')) {
      const r = await fetch(img.src);
      if (!r.ok) bad.push(img.src);
    }
  }
  return bad;
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def html_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    html, log = build_book(tmp_path_factory.getbasetemp())
    if not (html / EXPLORER).is_file():
        pytest.fail(f"the book did not build ({EXPLORER} missing):\n{log[-2000:]}")
    return html


@pytest.fixture(scope="module")
def site(html_dir: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class Page:
    """A chromium page that records console errors, page errors, failed and off-site requests."""

    def __init__(self, browser: "sync_api.Browser", base: str) -> None:
        self.problems: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 1000})
        self.page.route("**/*", self._route(base))
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _route(self, base: str):
        def handle(route: "sync_api.Route") -> None:
            url = route.request.url
            if url.startswith(base) or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                self.problems.append(f"off-site request: {url}")
                route.abort()
        return handle


@pytest.fixture(scope="module")
def browser() -> Iterator["sync_api.Browser"]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def _press(p: Page, slider: int, key: str, times: int = 1) -> None:
    handle = p.page.locator(".prunelib-static-explorer .noUi-handle").nth(slider)
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(times):
        p.page.keyboard.press(key)
    p.page.wait_for_timeout(200)


#: for screenshots: the theme's floating article header and skip link would cover part of a tall explorer, and its
#: smooth scrolling would let a screenshot catch the page mid-scroll
SCREENSHOT_CSS = (".bd-header-article { position: static !important } .skip-link { display: none !important } "
                  "html { scroll-behavior: auto !important }")


#: resolves once every visible picture of the explorer is decoded (ready to be painted)
DECODED = """() => Promise.all([...document.querySelectorAll('.prunelib-static-explorer img')]
  .filter(i => i.offsetParent !== null).map(i => i.decode()))"""


def _shot(p: Page, path: Path, selector: str = ".prunelib-static-explorer") -> None:
    p.page.evaluate(DECODED)
    box = p.page.locator(selector).first
    box.scroll_into_view_if_needed()
    p.page.wait_for_timeout(300)
    box.screenshot(path=str(path))
    prefix = os.environ.get("BOOK_SCREENSHOTS")
    if prefix:
        Path(prefix).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, f"{prefix}_{path.name}")


def test_explorer_sliders_swap_the_pictures_without_a_kernel(site: str, browser: "sync_api.Browser",
                                                           tmp_path: Path) -> None:
    p = Page(browser, site)
    p.page.goto(f"{site}/{EXPLORER}", wait_until="load")
    p.page.add_style_tag(content=SCREENSHOT_CSS)
    p.page.locator(".prunelib-static-explorer .noUi-handle").nth(1).wait_for(timeout=20_000)  # both sliders drawn
    images, text = p.page.evaluate(VISIBLE_IMAGES), p.page.evaluate(VISIBLE_TEXT)
    n = len(images) // 2  # one map per method, then one image with pixels removed per method
    assert n >= 2 and len(images) == 2 * n and all(i.startswith("data:image/") for i in images)
    assert any("Gini" in t for t in text) and any("%" in t for t in text)
    _press(p, 1, "ArrowRight", 3)  # pixels removed: the images the network sees change, the maps do not
    removed = p.page.evaluate(VISIBLE_IMAGES)
    assert removed[:n] == images[:n] and removed[n:] != images[n:], "the pixels-removed slider changed nothing"
    assert p.page.evaluate(VISIBLE_TEXT) != text
    _shot(p, tmp_path / "dense.png")
    last = p.page.locator(".prunelib-static-explorer .noUi-handle").first.get_attribute("aria-valuemax")
    _press(p, 0, "ArrowRight", int(float(last)))  # weights removed: the most pruned network, same pixels removed
    pruned, pruned_text = p.page.evaluate(VISIBLE_IMAGES), p.page.evaluate(VISIBLE_TEXT)
    assert pruned[:n] != removed[:n] and pruned[n:] != removed[n:], "the weights-removed slider changed nothing"
    assert pruned_text[0] != text[0], f"the level readout did not change: {pruned_text[0]!r}"
    _shot(p, tmp_path / "pruned.png")
    p.page.locator(".prunelib-static-explorer .widget-toggle-button").nth(1).click()  # another image
    p.page.wait_for_timeout(200)
    other = p.page.evaluate(VISIBLE_IMAGES)
    assert len(other) == 2 * n and not set(other) & set(pruned), "the image buttons did not switch the image"
    assert not p.problems, "\n".join(p.problems)
    p.page.close()


#: the cells of the first table of a page, row by row (header rows included)
TABLE_CELLS = """() => [...document.querySelector('table.dataframe').rows]
  .map(r => [...r.cells].map(c => c.innerText.trim()))"""


#: how many pixels of the first table lie outside what its output area shows (it scrolls sideways when too wide)
TABLE_HIDDEN_WIDTH = """() => { const t = document.querySelector('table.dataframe');
  const box = t.closest('div.output'); return box.scrollWidth - box.clientWidth; }"""


def test_the_paper_vs_reproduction_table_reads_as_a_table(site: str, browser: "sync_api.Browser",
                                                          tmp_path: Path) -> None:
    """Value and interval in columns of their own, 3 decimals, an em dash where the paper has no value; on a
    laptop's screen (1280 px) the whole table shows, none of it hidden in a sideways scroll."""
    p = Page(browser, site)
    p.page.goto(f"{site}/{COMPARISON}", wait_until="load")
    p.page.add_style_tag(content=SCREENSHOT_CSS)
    rows = p.page.evaluate(TABLE_CELLS)
    n_header = p.page.evaluate("() => document.querySelector('table.dataframe').tHead.rows.length")
    header = [c for r in rows[:n_header] for c in r]
    assert {"paper", "ours", "95 % CI low", "95 % CI high"} <= set(header), header
    body = [c for r in rows[n_header:] for c in r[1:]]
    numbers = [c for c in body if c not in ("", "—")]
    assert numbers and all(re.fullmatch(r"-?\d+\.\d{1,3}", c) for c in numbers), numbers
    assert "—" in body and not any(c.lower() in ("nan", "none") for c in body)
    hidden = p.page.evaluate(TABLE_HIDDEN_WIDTH)
    assert hidden <= 1, f"{hidden} px of the table are cut off at 1280 px (scroll sideways to see them)"
    _shot(p, tmp_path / "table.png", "table.dataframe")
    assert not p.problems, "\n".join(p.problems)
    p.page.close()


#: what a reader at 1280 px would miss: the parameters cell's defaults shown as if they were the chapter's (the
#: injected cell after it has the real ones), an output or an equation whose end hides in a sideways scroll, or a table cell
#: aligned against its kind (numbers right, text left: book/_ext/table_cells.py marks the text)
LAYOUT_PROBLEMS = """() => { const found = [];
  document.querySelectorAll('div.cell.tag_parameters').forEach(c => {
    if (c.offsetParent !== null) found.push('the parameters cell (defaults) is shown'); });
  document.querySelectorAll('div.cell_output .output, div.cell_output .output pre').forEach(o => {
    const hidden = o.scrollWidth - o.clientWidth;
    if (hidden > 1) found.push(`${hidden} px of an output hidden sideways: ${o.innerText.slice(0, 50)}`); });
  document.querySelectorAll('article mjx-container[display="true"]').forEach(m => {
    const hidden = m.scrollWidth - m.clientWidth;
    if (hidden > 1) found.push(`${hidden} px of an equation hidden sideways: ${m.textContent.slice(0, 30)}`); });
  document.querySelectorAll('div.cell_output table.dataframe td').forEach(td => {
    const want = td.classList.contains('text') ? 'left' : 'right', got = getComputedStyle(td).textAlign;
    if (got !== want) found.push(`a table cell is aligned ${got}, not ${want}: ${td.innerText.slice(0, 50)}`); });
  return found; }"""


#: every picture of an article outside the explorer's widget, once the collapsed outputs are opened: its source,
#: natural and rendered widths, and the number and caption of the figure it is in (null outside a figure)
PICTURES = """() => [...document.querySelectorAll('article img')]
  .filter(i => !i.closest('.prunelib-static-explorer, .widget-subarea') && i.naturalWidth > 0)
  .map(i => { const f = i.closest('figure'), number = f && f.querySelector('figcaption .caption-number');
    return {src: i.src.startsWith('data:') ? i.src.slice(0, 60) : i.src, natural: i.naturalWidth, shown: i.getBoundingClientRect().width,
            number: number ? number.innerText.trim() : null,
            caption: f && f.querySelector('figcaption') ? f.querySelector('figcaption').innerText.trim() : '',
            provenance: f && f.querySelector('figcaption .provenance') ? f.querySelector('figcaption .provenance').innerText : ''}; })"""
#: the collapsed outputs (the galleries of every level): open, so that their pictures are measured as shown
OPEN_TOGGLES = """() => { document.querySelectorAll('button.toggle-button').forEach(b => b.click());
  document.querySelectorAll('details').forEach(d => d.open = true); }"""


#: the bytes a page loaded: the document and every resource it fetched (as sent, before decompression)
WEIGHT = """() => { const n = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  return {bytes: n.encodedBodySize + resources.reduce((s, r) => s + r.encodedBodySize, 0),
          mathjax: resources.some(r => r.name.includes('/mathjax/')),
          math: document.querySelector('article .math, article mjx-container') !== null}; }"""
#: text of an article set under 11 px at 1280 px: each element with text of its own and its computed font size
SMALL_TEXT = """() => [...document.querySelectorAll('article *')].filter(e => e.offsetParent !== null
    && [...e.childNodes].some(n => n.nodeType === 3 && n.data.trim()) && parseFloat(getComputedStyle(e).fontSize) < 11)
  .map(e => `${e.tagName.toLowerCase()} ${getComputedStyle(e).fontSize}: ${e.textContent.trim().slice(0, 40)}`)"""


@pytest.fixture(scope="module")
def desktop(site: str, html_dir: Path, browser: "sync_api.Browser") -> dict[str, dict]:
    """Every page (outside ``_static/``'s templates) seen once at 1280 px, as the tests below read it: what went
    wrong while it loaded (console and page errors, failed or off-site requests, broken images, layout problems),
    its weight (:data:`WEIGHT`), then, with its collapsed outputs opened, its pictures (:data:`PICTURES`) and its
    text under 11 px (:data:`SMALL_TEXT`)."""
    seen = {}
    for f in sorted(html_dir.rglob("*.html")):
        name = f.relative_to(html_dir).as_posix()
        if name.startswith("_"):
            continue
        p = Page(browser, site)
        p.page.goto(f"{site}/{name}", wait_until="load")
        p.page.wait_for_load_state("networkidle")  # index.html's redirect followed, the page's scripts run
        p.page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")  # equations typeset
        broken = p.page.evaluate(BROKEN_IMAGES)
        problems = p.problems + [f"broken image: {b}" for b in broken] + p.page.evaluate(LAYOUT_PROBLEMS)
        weight = p.page.evaluate(WEIGHT)
        p.page.evaluate(OPEN_TOGGLES)
        p.page.wait_for_timeout(300)
        seen[name] = {"problems": problems, "pictures": p.page.evaluate(PICTURES), **weight,
                      "small_text": p.page.evaluate(SMALL_TEXT)}
        p.page.close()
    return seen


def test_every_page_loads_cleanly(desktop: dict[str, dict]) -> None:
    assert len(desktop) >= 5
    problems = {name: page["problems"] for name, page in desktop.items() if page["problems"]}
    assert not problems, problems


def _dpi(src: str, html_dir: Path) -> float:
    """The resolution a picture of the book was drawn at: a PNG file's own (matplotlib writes it), a concept
    gallery's (WebP, embedded) prunelib.pictures.FIGURE_DPI."""
    from PIL import Image

    from prunelib import pictures
    if src.startswith("data:image/webp"):
        return pictures.FIGURE_DPI
    with Image.open(html_dir / urlparse(src).path.lstrip("/")) as picture:
        return float(picture.info["dpi"][0])


def test_every_figure_is_numbered_captioned_and_its_text_readable(desktop: dict[str, dict], html_dir: Path) -> None:
    """At 1280 px every figure of a chapter is a numbered MyST figure with a caption that ends with where it comes
    from, on a line of its own (book/_ext/data_links.py), and no picture is scaled down so far that its smallest text falls under 11 px: a figure's smallest text is
    MIN_FONT_PT (prunelib.figures.style, held by tests/test_figure_style.py) at the resolution it was drawn at, so
    the rendered width over the natural width bounds every letter of it."""
    from prunelib.figures import style
    problems, figures = {}, 0
    for name, page in desktop.items():
        if not name.startswith("book/"):
            continue
        found = []
        for pic in page["pictures"]:
            smallest = style.MIN_FONT_PT * _dpi(pic["src"], html_dir) / 72  # px at natural size
            if pic["shown"] and pic["shown"] / pic["natural"] * smallest < 11:
                found.append(f"{pic['src']}: {pic['natural']} px shown at {pic['shown']:.0f} px, its smallest text "
                             f"at {pic['shown'] / pic['natural'] * smallest:.1f} px")
            if pic["number"] is None or not pic["provenance"].startswith("Drawn by"):
                found.append(f"{pic['src']}: not a numbered figure with its source on a line of its caption")
            figures += pic["number"] is not None
        if found:
            problems[name] = found
    assert not problems, problems
    assert figures >= 20, f"only {figures} numbered figures in the book"


def test_no_text_is_under_11_px_at_1280_px(desktop: dict[str, dict]) -> None:
    small = {name: page["small_text"][:5] for name, page in desktop.items() if page["small_text"]}
    assert not small, small


def test_page_weight_is_reported_and_mathjax_loads_only_where_there_is_mathematics(desktop: dict[str, dict]) -> None:
    """Every page's weight (the bytes it loaded) is printed (``-s``) and, with ``BOOK_PAGE_WEIGHTS=FILE``, written
    as JSON; MathJax (1.3 MB) loads on a page only where it shows mathematics."""
    weights = {name: page["bytes"] for name, page in desktop.items()}
    for name, size in sorted(weights.items()):
        print(f"{size / 1e6:6.2f} MB  {name}")
    if os.environ.get("BOOK_PAGE_WEIGHTS"):
        Path(os.environ["BOOK_PAGE_WEIGHTS"]).write_text(json.dumps(weights, indent=1, sort_keys=True) + "\n")
    assert all(size > 0 for size in weights.values())
    needless = [name for name, page in desktop.items() if page["mathjax"] and not page["math"]]
    assert not needless, f"MathJax loaded on pages without mathematics: {needless}"


def test_the_landing_page_opens_with_the_answer(site: str, browser: "sync_api.Browser") -> None:
    """The page opens with the key findings (at most three sentences and 70 words: the paper's claim, what the seeds
    show, what made the paper's jump), then the table of claims, whose top is in the first screen at 1280 px, then a
    numbered, captioned figure; the longer abstract (the question first) follows them."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site}/book/intro.html", wait_until="load")
    box = page.locator("article .admonition.key-findings").first
    assert box.locator(".admonition-title").inner_text().strip() == "Key findings"
    findings = box.locator("p:not(.admonition-title)").first.inner_text()
    assert len(findings.split()) <= 70 and findings.count(". ") <= 2 and "seeds" in findings, findings
    assert box.bounding_box()["y"] < 900
    table = page.locator("article table").first
    assert table.bounding_box()["y"] < 900, "the table of claims starts below the first screen"
    header = page.evaluate("() => [...document.querySelectorAll('article table thead th')].map(t => t.innerText)")
    assert "the authors' code" in header and any("global pruning" in h for h in header), header
    number = page.evaluate("() => document.querySelector('article figure figcaption .caption-number').innerText")
    assert number.strip().startswith("Fig. 1"), number
    summary = page.evaluate("() => [...document.querySelectorAll('article section p')].map(p => p.innerText)"
                            ".find(t => t.startsWith('Does pruning')) || ''")
    assert "seeds" in summary and "authors' training loop" in summary and summary.count(". ") >= 4, summary
    page.close()


#: what makes a page wider than its screen: the page's own width, and the elements whose right edge passes it
#: outside any box that scrolls or clips them
PHONE_OVERFLOW = """() => { const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth <= w + 1) return out;
  out.push(`the page is ${document.documentElement.scrollWidth} px wide on a ${w} px screen`);
  document.querySelectorAll('article *').forEach(e => { const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 1) return;
    for (let p = e.parentElement; p; p = p.parentElement)
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return;
    out.push(`${e.tagName.toLowerCase()}.${e.className} reaches ${Math.round(r.right)} px: ${(e.innerText || '').slice(0, 40)}`); });
  return out.slice(0, 5); }"""
#: the explorer's slider readouts: each inside the screen and visible
READOUTS = """() => [...document.querySelectorAll('.prunelib-static-explorer .widget-readout')]
  .filter(e => e.offsetParent !== null).map(e => [e.innerText, e.getBoundingClientRect().right])"""


#: the words of a table cell broken over two lines: each run of characters between spaces (and the places a word
#: may break: a hyphen, a dash, a slash) whose letters lie on more than one line
BROKEN_WORDS = """() => { const found = [];
  document.querySelectorAll('article table:not(.indextable) th, article table:not(.indextable) td').forEach(cell => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (const m of n.data.matchAll(/[^\\s\\-–—\\/]{2,}/g)) {
        const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.bottom)));
        if (lines.size > 1) found.push(`"${m[0]}" in "${cell.innerText.trim().slice(0, 40)}"`);
      } } });
  return found.slice(0, 5); }"""
#: the tables of an article taller than three screens
TALL_TABLES = """() => [...document.querySelectorAll('article table:not(.indextable)')]
  .map(t => [t.getBoundingClientRect().height, t.innerText.trim().slice(0, 40)])
  .filter(([h]) => h > 3 * window.innerHeight).map(([h, text]) => `${Math.round(h)} px: ${text}`)"""
#: the pictures of an article's figures that a tap does not enlarge (book/_static/zoom.js wraps each in a link)
NOT_ENLARGEABLE = """() => [...document.querySelectorAll('article figure img')]
  .filter(i => !i.closest('a.prunelib-zoom-link[href]')).map(i => i.alt.slice(0, 60) || i.src.slice(0, 60))"""


@pytest.fixture(scope="module")
def phone(site: str, html_dir: Path, browser: "sync_api.Browser") -> dict[str, dict]:
    """Every page at 390 x 844 (a phone), as the tests below read it: what makes it wider than the screen
    (:data:`PHONE_OVERFLOW`), the words broken in its tables (:data:`BROKEN_WORDS`), its tables taller than three
    screens (:data:`TALL_TABLES`), its figures a tap does not enlarge (:data:`NOT_ENLARGEABLE`) and, on the
    explorer, its slider readouts (:data:`READOUTS`)."""
    seen = {}
    for f in sorted(html_dir.rglob("*.html")):
        name = f.relative_to(html_dir).as_posix()
        if name.startswith("_") or f.name in ("index.html", "search.html"):
            continue
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{site}/{name}", wait_until="load")
        page.wait_for_timeout(200)
        seen[name] = {"overflow": page.evaluate(PHONE_OVERFLOW), "broken": page.evaluate(BROKEN_WORDS),
                      "tall": page.evaluate(TALL_TABLES), "not_enlargeable": page.evaluate(NOT_ENLARGEABLE),
                      "readouts": page.evaluate(READOUTS) if name == EXPLORER else None}
        page.close()
    return seen


def test_no_page_is_wider_than_a_phone(phone: dict[str, dict]) -> None:
    """At 390 x 844 (a phone), no page scrolls sideways: long names wrap, tables scroll in their own box, and the
    explorer's slider readouts (the level, the pixels removed) stay on the screen."""
    problems = {name: page["overflow"] for name, page in phone.items() if page["overflow"]}
    readouts = phone[EXPLORER]["readouts"]
    assert len(readouts) == 2 and all(text.strip() for text, _ in readouts), readouts
    problems.update({EXPLORER: [f"slider readout {text!r} ends at {right:.0f} px" for text, right in readouts
                                if right > 390]} if any(right > 390 for _, right in readouts) else {})
    assert not problems, problems


def test_no_table_breaks_a_word_or_a_number_or_runs_past_three_screens_on_a_phone(phone: dict[str, dict]) -> None:
    broken = {name: page["broken"] for name, page in phone.items() if page["broken"]}
    tall = {name: page["tall"] for name, page in phone.items() if page["tall"]}
    assert not broken, f"words broken over two lines in a table cell: {broken}"
    assert not tall, f"tables taller than three screens: {tall}"


def test_every_figure_enlarges_on_a_tap(phone: dict[str, dict], site: str, browser: "sync_api.Browser",
                                        tmp_path: Path) -> None:
    """Every figure's picture is a link that enlarges it; tapped on the landing page at 390 px, the picture opens
    in a dialog wider than the screen's column (to be read, scrolled sideways) and Escape closes it."""
    missing = {name: page["not_enlargeable"] for name, page in phone.items() if page["not_enlargeable"]}
    assert not missing, missing
    p = Page(browser, site)
    p.page.set_viewport_size({"width": 390, "height": 844})
    p.page.goto(f"{site}/book/intro.html", wait_until="load")
    figure = p.page.locator("article figure img").first
    figure.scroll_into_view_if_needed()
    shown = figure.bounding_box()["width"]
    figure.click()
    big = p.page.locator("dialog.prunelib-zoom[open] img")
    big.wait_for(timeout=5_000)
    p.page.wait_for_timeout(300)
    assert big.bounding_box()["width"] > 1.5 * shown, (big.bounding_box(), shown)
    p.page.screenshot(path=str(tmp_path / "enlarged.png"))
    if os.environ.get("BOOK_SCREENSHOTS"):
        shutil.copyfile(tmp_path / "enlarged.png", f"{os.environ['BOOK_SCREENSHOTS']}_enlarged.png")
    p.page.keyboard.press("Escape")
    assert p.page.locator("dialog.prunelib-zoom[open]").count() == 0
    assert not p.problems, "\n".join(p.problems)
    p.page.close()
