"""The rendered book in a real browser (Debian's headless chromium, driven by playwright; no download).

Served from 127.0.0.1; every request to another host is blocked and reported, so a CDN dependency fails the
test. The explorer's slider must swap the picture with no kernel, and no page may log a console error or
show a broken image. Set ``BOOK_SCREENSHOT=path.png`` to keep a screenshot of the explorer after the slider
moved (``make``-free: ``BOOK_SCREENSHOT=results/screenshots/explorer_slider.png pytest tests/test_browser.py``).
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from typing import Iterator

import pytest

from test_book import build_book

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no chromium at /usr/bin/chromium (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")

EXPLORER = "book/notebooks/05_explorer.html"
VISIBLE_IMAGE = """() => {
  const img = [...document.querySelectorAll('.prunelib-static-explorer img')].find(i => i.offsetParent !== null);
  if (!img) return null;
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  c.getContext('2d').drawImage(img, 0, 0);
  return c.toDataURL();
}"""
VISIBLE_TEXT = """() => [...document.querySelectorAll('.prunelib-static-explorer .widget-html')]
  .filter(e => e.offsetParent !== null).map(e => e.innerText).join(' | ')"""
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


def test_explorer_slider_swaps_the_picture_without_a_kernel(site: str, browser: "sync_api.Browser",
                                                            tmp_path: Path) -> None:
    p = Page(browser, site)
    p.page.goto(f"{site}/{EXPLORER}", wait_until="load")
    handle = p.page.locator(".prunelib-static-explorer .noUi-handle").first
    handle.wait_for(timeout=20_000)  # the widgets were rendered from the saved state
    before, label_before = p.page.evaluate(VISIBLE_IMAGE), p.page.evaluate(VISIBLE_TEXT)
    assert before and before.startswith("data:image/png")
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(3):
        p.page.keyboard.press("ArrowRight")
    p.page.wait_for_function("() => document.querySelector('.prunelib-static-explorer .noUi-handle')"
                             ".getAttribute('aria-valuenow') === '3.0'", timeout=5_000)
    after, label_after = p.page.evaluate(VISIBLE_IMAGE), p.page.evaluate(VISIBLE_TEXT)
    assert after != before, "moving the slider did not change the picture"
    assert label_after != label_before, f"the level label did not change: {label_after!r}"
    shot = tmp_path / "explorer_slider.png"
    p.page.screenshot(path=str(shot))
    if os.environ.get("BOOK_SCREENSHOT"):
        Path(os.environ["BOOK_SCREENSHOT"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, os.environ["BOOK_SCREENSHOT"])
    # the method buttons switch to the other method's picture at the same level
    p.page.locator(".prunelib-static-explorer .widget-toggle-button").nth(1).click()
    other = p.page.evaluate(VISIBLE_IMAGE)
    assert other not in (after, None), "the method buttons did not switch the picture"
    assert p.page.evaluate(VISIBLE_TEXT) == label_after
    assert not p.problems, "\n".join(p.problems)
    p.page.close()


def test_every_page_loads_cleanly(site: str, html_dir: Path, browser: "sync_api.Browser") -> None:
    pages = [f"{site}/{f.relative_to(html_dir).as_posix()}" for f in sorted(html_dir.rglob("*.html"))
             if not f.relative_to(html_dir).as_posix().startswith("_")]  # _static/ holds theme templates
    assert len(pages) >= 5
    problems = {}
    for url in pages:
        p = Page(browser, site)
        p.page.goto(url, wait_until="load")
        p.page.wait_for_timeout(300)
        broken = p.page.evaluate(BROKEN_IMAGES)
        found = p.problems + [f"broken image: {b}" for b in broken]
        if found:
            problems[url.removeprefix(site)] = found
        p.page.close()
    assert not problems, problems

