"""A chapter's declared inputs: what a stage of ``reproduce`` depends on, and nothing else.

A stage is current while its inputs, declared now (:func:`stage_inputs`), are the ones its manifest record holds
(:func:`prunelib.currency.why_stale`); its fingerprint is their digest (:func:`prunelib.currency.digest`). The inputs are

- the stage's parameters and its notebook's source;
- the source of the prunelib modules the notebook imports, followed through their own imports (so a change to
  ``figures/concepts.py`` re-runs the concepts stage, not the training stage);
- the *content* of the results of the stages before it (not their fingerprints): a stage that is re-run and
  writes the same results leaves the stages after it alone; and the content of what the sweeps of its profile
  (and of any profile it names in a parameter ending in ``_profile``) wrote, so that a chapter drawn from a
  sweep is re-run when a job's results change.
"""
from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Iterable

from . import __version__

PACKAGE = Path(__file__).resolve().parent
#: files of a stage's results folder that say when and where it ran rather than what it computed
VOLATILE = ("provenance.json",)


def _module_file(dotted: str) -> Path | None:
    """``prunelib.figures.noise`` -> its file (module or package ``__init__``), None if it is not prunelib's."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE.name:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _dotted(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, package: str) -> set[str]:
    """Dotted names of the modules (and possible submodules) an AST imports; relative imports resolved."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # ``from . import data``: a submodule
    return names


def _with_parents(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def imported_modules(sources: Iterable[str]) -> list[Path]:
    """The prunelib module files that ``sources`` (Python code) import, directly or through other modules,
    with the packages that hold them; sorted."""
    todo = set()
    for source in sources:
        todo |= _imports(ast.parse(source), PACKAGE.name)
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        for dotted in _with_parents(name):
            path = _module_file(dotted)
            if path is None or dotted in seen:
                continue
            seen[dotted] = path
            package = dotted if path.name == "__init__.py" else dotted.rpartition(".")[0]
            todo |= _imports(ast.parse(path.read_text()), package)
    return sorted(set(seen.values()))


def notebook_code(notebook: Path) -> list[str]:
    """The code cells of a notebook, with IPython's magics and shell lines left out."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return ["\n".join(line for line in "".join(c["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in cells if c["cell_type"] == "code"]


def results_digest(folders: Iterable[Path]) -> str:
    """sha256 of the files of ``folders`` (names and bytes; a file among them stands for itself), leaving out
    :data:`VOLATILE` ones."""
    h = hashlib.sha256()
    for folder in map(Path, folders):
        files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        for f in (f for f in files if f.name not in VOLATILE):
            h.update(str(f.relative_to(folder.parent if folder.is_file() else folder)).encode() + b"\0"
                     + f.read_bytes())
    return h.hexdigest()


def stage_inputs(params: dict, notebook: Path, upstream: Iterable[Path] = ()) -> dict:
    """The declared inputs of a stage: ``{"params", "package", "notebook", "code": {module: sha256}, "results"}``:
    its ``params``, prunelib's version, its notebook's digest, the source digest of every prunelib module it imports
    (the chapter's code: minutes to draw again, so its source is its version) and the digest of the results it
    reads (the results folders ``upstream`` of the stages before it and of the sweeps)."""
    return {"params": params, "package": __version__, "notebook": hashlib.sha256(Path(notebook).read_bytes()).hexdigest(),
            "code": {str(m.relative_to(PACKAGE)): hashlib.sha256(m.read_bytes()).hexdigest()
                     for m in imported_modules(notebook_code(notebook))},
            "results": results_digest(upstream)}
