"""Screenshots of the rendered book as a reader sees it, at 1280 px (a laptop) and 390 px (a phone).

    python tools/screenshots.py [OUT]     # after `make book`; OUT defaults to results/screenshots

Serves _build/html from 127.0.0.1 and drives Debian's headless chromium through playwright: the landing page, the
saliency chapter, the explorer at the dense network and at its most pruned network that is not at chance, and the
chapters "Is it noise?" and of the authors' code; each page from its top and at its first figure, one screen high;
the first numbered table of "Is it noise?"; and the landing page's first figure enlarged by a tap. Nothing is
downloaded.
"""
from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
PAGES = {"landing": "book/intro.html", "saliency": "book/notebooks/02_saliency.html",
         "explorer": "book/notebooks/05_explorer.html", "noise": "book/notebooks/07_noise.html",
         "authors": "book/notebooks/08_authors_code.html"}
SIZES = {"1280": (1280, 900), "390": (390, 844)}
#: the explorer's level slider: its handle, and the labels of its levels in order
HANDLE = ".prunelib-static-explorer .noUi-handle"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _explorer_levels(page) -> int:
    """How many steps right of the dense network the most pruned level not at chance is (the slider's labels say
    "(at chance)")."""
    page.locator(HANDLE).first.wait_for(timeout=20_000)
    last = int(float(page.locator(HANDLE).first.get_attribute("aria-valuemax")))
    handle = page.locator(HANDLE).first
    handle.focus()
    steps = 0
    for k in range(1, last + 1):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(100)
        if "at chance" in page.evaluate(
                "() => document.querySelector('.prunelib-static-explorer .widget-readout').innerText"):
            break
        steps = k
    page.keyboard.press("Home")
    page.wait_for_timeout(200)
    return steps


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        for size, (w, h) in SIZES.items():
            for name, page_path in PAGES.items():
                page = browser.new_page(viewport={"width": w, "height": h})
                page.goto(f"{site}/{page_path}", wait_until="load")
                page.add_style_tag(content="html { scroll-behavior: auto !important }")
                if name != "explorer":
                    page.screenshot(path=str(out / f"{name}_{size}.png"))  # the page's top: its first words
                    figure = page.locator("article figure")
                    if figure.count():  # and its first figure, with its number and caption
                        page.add_style_tag(content=".bd-header-article { position: static !important }")
                        figure.first.scroll_into_view_if_needed()
                        page.wait_for_timeout(300)
                        page.screenshot(path=str(out / f"{name}_figure_{size}.png"))
                    table = page.locator("article .prunelib-table")
                    if name == "noise" and table.count():  # a numbered table, with its caption
                        table.first.scroll_into_view_if_needed()
                        page.wait_for_timeout(300)
                        page.screenshot(path=str(out / f"{name}_table_{size}.png"))
                    if name == "landing" and figure.count():  # the first figure, enlarged by a tap
                        page.locator("article figure img").first.click()
                        page.locator("dialog.prunelib-zoom[open] img").wait_for(timeout=5_000)
                        page.wait_for_timeout(300)
                        page.screenshot(path=str(out / f"{name}_figure_enlarged_{size}.png"))
                else:
                    steps = _explorer_levels(page)
                    box = page.locator(".prunelib-static-explorer").first
                    box.scroll_into_view_if_needed()
                    page.wait_for_timeout(300)
                    box.screenshot(path=str(out / f"explorer_dense_{size}.png"))
                    page.locator(HANDLE).first.focus()
                    for _ in range(steps):
                        page.keyboard.press("ArrowRight")
                    page.wait_for_timeout(300)
                    box.screenshot(path=str(out / f"explorer_pruned_{size}.png"))
                page.close()
        browser.close()
    server.shutdown()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "results" / "screenshots")
