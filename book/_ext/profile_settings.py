"""Local Sphinx extension of the book: the directive ``profile-settings`` renders ``prunelib/profiles.yaml`` as a
table, one column per profile and one row per setting, so that the book shows the file the runner reads.

Use it in a MyST page as::

    ```{profile-settings}
    ```
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

#: the profiles file, relative to the book's source folder (the repository root)
PROFILES = Path("prunelib") / "profiles.yaml"
#: shown where a profile does not set a key (the notebook's default, or a key of another stage, applies)
ABSENT = "—"


def settings_matrix(profiles: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)``: header ``["setting", <profile>...]``; one row per key, in the order the keys first
    appear in the file, with each profile's value as text (:data:`ABSENT` where the profile does not set it)."""
    if not profiles or not all(isinstance(p, dict) for p in profiles.values()):
        raise ValueError(f"expected a mapping of profile names to their settings, got {profiles!r}")
    keys = list(dict.fromkeys(key for settings in profiles.values() for key in settings))
    rows = [[key, *(_text(settings[key]) if key in settings else ABSENT for settings in profiles.values())]
            for key in keys]
    return ["setting", *profiles], rows


def _text(value: Any) -> str:
    """A value as shown: comma-separated lists (levels, classes, methods) with a space after each comma."""
    return ", ".join(part.strip() for part in value.split(",")) if isinstance(value, str) else str(value)


def _row(cells: list[str], first_literal: bool) -> nodes.row:
    row = nodes.row()
    for i, text in enumerate(cells):
        paragraph = nodes.paragraph()
        paragraph += nodes.literal(text=text) if first_literal and i == 0 else nodes.Text(text)
        row += nodes.entry("", paragraph)
    return row


class ProfileSettings(SphinxDirective):
    """The table of every profile's settings, read from ``prunelib/profiles.yaml`` at build time."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        path = Path(self.env.srcdir) / PROFILES
        self.env.note_dependency(str(path))  # the page is rebuilt when the profiles change
        header, rows = settings_matrix(yaml.safe_load(path.read_text()))
        tgroup = nodes.tgroup(cols=len(header))
        tgroup += [nodes.colspec(colwidth=1) for _ in header]
        tgroup += nodes.thead("", _row(header, first_literal=False))
        tgroup += nodes.tbody("", *(_row(r, first_literal=True) for r in rows))
        return [nodes.table("", tgroup, classes=["profile-settings"])]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("profile-settings", ProfileSettings)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
