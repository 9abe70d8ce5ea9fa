"""The package's layers import only downward, and no modules import each other in a circle.

From the bottom: the base (data, training, pruning, metrics, saliency, craft, settings, ...), ``measure`` (what a job
computes on a network), ``sweep`` (the engine: jobs, their records, aggregation), ``figures``, ``chapters`` (what the
notebooks call), and the entry points (``reproduce``, ``__main__``). Read from the import statements of every module,
those inside functions and ``if TYPE_CHECKING:`` blocks included.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "prunelib"
LAYERS = ("base", "measure", "sweep", "figures", "chapters", "entry")


def layer(module: str) -> str:
    """The layer of a dotted prunelib module."""
    top = module.split(".")[1] if "." in module else ""
    if top in ("reproduce", "__main__"):
        return "entry"
    return top if top in LAYERS else "base"


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    root = package.parent
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(found: dict[str, Path]) -> dict[str, set[str]]:
    """``{module: {prunelib modules it imports}}``; ``from . import x`` resolves to the submodule ``x`` where there
    is one."""
    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:
                    targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in found else base)
        graph[name] = {t for t in targets if t in found and t != name}
    return graph


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    rank = {name: i for i, name in enumerate(LAYERS)}
    return sorted((a, b) for a, targets in graph.items() for b in targets if rank[layer(b)] > rank[layer(a)])


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checks_find_a_circle_and_an_import_up_a_layer() -> None:
    graph = {"prunelib.a": {"prunelib.b"}, "prunelib.b": {"prunelib.a"}, "prunelib.c": set(),
             "prunelib.measure.x": {"prunelib.c"}, "prunelib.d": {"prunelib.measure.x"}}
    assert circles(graph) == [["prunelib.a", "prunelib.b"]]
    assert upward(graph) == [("prunelib.d", "prunelib.measure.x")]


def test_relative_imports_resolve_to_the_package_s_modules(tmp_path: Path) -> None:
    package = tmp_path / "prunelib"
    (package / "sweep").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data.py").write_text("")
    (package / "sweep" / "__init__.py").write_text("")
    (package / "sweep" / "job.py").write_text("from .. import data\nfrom . import records\n")
    (package / "sweep" / "records.py").write_text("def f():\n    from ..data import x\n")
    graph = imports(modules(package))
    assert graph["prunelib.sweep.job"] == {"prunelib.data", "prunelib.sweep.records"}
    assert graph["prunelib.sweep.records"] == {"prunelib.data"}


def test_prunelib_imports_only_downward_and_in_no_circle() -> None:
    graph = imports(modules())
    assert {"prunelib.measure", "prunelib.sweep.records", "prunelib.chapters.study"} <= set(graph)
    assert circles(graph) == []
    assert upward(graph) == []
