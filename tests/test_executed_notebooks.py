"""What the committed notebooks show: no stderr output (a warning is fixed at its cause, not published), no table cut
short."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from prunelib.reproduce import stderr_outputs

ROOT = Path(__file__).resolve().parent.parent


def test_no_committed_notebook_has_stderr_output() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split("\0")
    noisy = {name: stderr_outputs(ROOT / name) for name in filter(None, tracked)}
    noisy = {name: found for name, found in noisy.items() if found}
    found = {f"{name}, cell {cell} ({code!r}): {first}" for name, found in noisy.items()
             for cell, code, first in found[:1]}
    assert not found, f"stderr output in committed notebooks: {sorted(found)}; fix the cause and re-run the stage"


#: what pandas writes in place of the rows or columns it leaves out of a long table's HTML (display.max_rows), or at
#: the end of a cell's text it cuts short (display.max_colwidth)
ELIDED = re.compile(r"<t[hd][^>]*>[^<]*\.\.\.</t[hd]>")


def test_no_committed_notebook_shows_a_cut_table() -> None:
    """A table in the book shows all its rows, columns and text: pandas' "..." would hide numbers and words."""
    cut = []
    for notebook in sorted((ROOT / "book" / "notebooks").glob("*.ipynb")):
        for i, c in enumerate(json.loads(notebook.read_text())["cells"]):
            html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in c.get("outputs", []))
            if ELIDED.search(html):
                cut.append(f"{notebook.name}, cell {i}: {''.join(c['source'])[:60]!r}")
    assert not cut, f"tables cut short by pandas: {cut}"


def test_no_executed_notebook_weighs_5_mb_or_shows_a_figure_twice() -> None:
    """A figure glued by ``show`` and displayed again as the cell's value doubles a page's weight."""
    import json
    from pathlib import Path
    for path in sorted(Path(__file__).resolve().parent.parent.joinpath("book", "notebooks").glob("*.ipynb")):
        assert path.stat().st_size < 5 * 2 ** 20, f"{path.name}: {path.stat().st_size / 2 ** 20:.1f} MB"
        cells = json.loads(path.read_text())["cells"]
        twice = [c.get("id") for c in cells for o in c.get("outputs", [])
                 if o.get("output_type") == "execute_result" and "image/png" in o.get("data", {})]
        assert not twice, f"{path.name}: cells {twice} show their figure a second time"
