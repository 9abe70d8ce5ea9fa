"""Local Sphinx extension of the book: works around one Sphinx 7.4 bug that breaks pages in the browser.

Sphinx 7.4 stores an inline script added after ``Builder.init()`` (``app.add_js_file(None, body=...)``) twice:
once as given (filename ``None``) and once more when ``prepare_writing`` re-adds the registry's entries with
the filename ``''``; the two do not compare equal. sphinx-thebe (always loaded by Jupyter Book) adds such a
script (``const THEBE_JS_URL = ...``), so every page declared that constant twice and the browser logged
"Identifier 'THEBE_JS_URL' has already been declared". Normalising the filename before writing removes the
duplicate. tests/test_browser.py checks that no page logs a console error.

MathJax (1.3 MB) is loaded only by a page that shows mathematics itself: Sphinx also loads it on a page whose
toctree includes such a page, which is the landing page (its toctree holds the whole book).

It also lets docstrings write absolute values and norms as ``|x|`` in plain text (as prunelib's do): outside
inline literals and literal blocks, ``|`` is escaped before reStructuredText sees it, where it would otherwise
be an undefined substitution reference (an error, which fails the ``-W`` build of the API page).
"""
from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx


def _normalise_inline_scripts(app: Sphinx, env: Any) -> list[str]:
    builder = app.builder
    files = getattr(builder, "_js_files", None)
    if files is None:  # not an HTML builder
        return []
    for i, js in enumerate(files):
        if js.filename is None:
            files[i] = type(js)("", priority=js.priority, **js.attributes)
    files[:] = list(dict.fromkeys(files))
    return []


def mathjax_script(js: Any) -> bool:
    """Whether a page's script (Sphinx's ``_JavaScript``) is MathJax or its configuration."""
    name = js.filename or ""
    return "mathjax/" in name or "/MathJax" in name or js.attributes.get("body", "").lstrip().startswith(
        ("window.MathJax", "MathJax."))


def _mathjax_only_with_mathematics(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                                   doctree: Any) -> None:
    if app.env.get_domain("math").data["has_equations"].get(pagename, False):
        return
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        scripts[:] = [js for js in scripts if not mathjax_script(js)]


_INLINE_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")  # inline literals, roles, interpreted text


def _escape_pipes(line: str) -> str:
    parts = _INLINE_LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("\\|", "|").replace("|", "\\|") for i, p in enumerate(parts))


def _escape_docstring_pipes(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    literal_indent = None  # indentation of the paragraph that opened a literal block with "::"
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not line.strip() or indent > literal_indent:
                continue
            literal_indent = None
        if line.rstrip().endswith("::"):
            literal_indent = indent
        lines[i] = _escape_pipes(line)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-updated", _normalise_inline_scripts)
    app.connect("html-page-context", _mathjax_only_with_mathematics, priority=900)  # after sphinx.ext.mathjax
    app.connect("autodoc-process-docstring", _escape_docstring_pipes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
