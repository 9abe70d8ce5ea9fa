"""A notebook's ``parameters`` cell, whose defaults come from one place: the smoke profile of profiles.yaml.

papermill injects a profile's settings after the cell tagged ``parameters``; the values written in that cell are
what a user gets who runs the notebook by hand, so they are the ``smoke`` profile's (the quick one). They are a
copy, kept equal to profiles.yaml by :func:`sync` (``python tools/sync_parameters.py``) and checked by the test
suite. The cell's other names (``profile``, ``data``, ``device``, ``out_dir``, ...) belong to the runner, not to a
profile, and are left as they are.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from .profiles import load_settings

#: the profile whose settings are the notebooks' defaults
DEFAULTS_PROFILE = "smoke"


def _cell(nb: dict, path: Path) -> dict:
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path}: expected one cell tagged 'parameters', found {len(cells)}")
    return cells[0]


def defaults(notebook: Path) -> dict[str, Any]:
    """The names the notebook's ``parameters`` cell assigns, with their values (literals only)."""
    source = "".join(_cell(json.loads(Path(notebook).read_text()), notebook)["source"])
    values = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"{notebook}: the parameters cell may hold only `name = literal` lines, "
                             f"found {ast.unparse(node)!r}")
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def differences(notebook: Path, profile: str = DEFAULTS_PROFILE) -> dict[str, tuple[Any, Any]]:
    """``{name: (value in the notebook, value in the profile)}`` for every setting of the profile that differs."""
    settings = load_settings(profile).raw  # as written: compared with the notebook's literals
    return {k: (v, settings[k]) for k, v in defaults(notebook).items() if k in settings and settings[k] != v}


def _literal(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)  # "double quotes", as the cells have


def sync(notebook: Path, profile: str = DEFAULTS_PROFILE) -> dict[str, tuple[Any, Any]]:
    """Rewrite the values of the ``parameters`` cell that differ from ``profile`` (comments kept); returns them."""
    changed = differences(notebook, profile)
    if changed:
        nb = json.loads(Path(notebook).read_text())
        cell = _cell(nb, notebook)
        lines = "".join(cell["source"]).splitlines(keepends=True)
        for i, line in enumerate(lines):
            name, eq, rest = line.partition("=")
            if eq and name.strip() in changed:
                value_text, hash_, comment = rest.partition("#")
                new = f"{name.rstrip()} = {_literal(changed[name.strip()][1])}"
                lines[i] = (f"{new:<{len(name) + len(value_text) + 1}}{hash_}{comment}" if hash_ else new + "\n")
        cell["source"] = lines
        Path(notebook).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed
