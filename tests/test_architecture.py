"""The package's import graph keeps its layers: no cycles, no import that points up, no private names across modules.

Layers, lowest first (docs/architecture.md): core -> data -> metrics -> planning -> reports -> delivery,
then the command line on top. A module may import its own layer and the layers below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reportlib"
LAYERS = ("core", "data", "metrics", "planning", "reports", "delivery")
TOP = len(LAYERS)  # reportlib/cli.py, __main__.py, __init__.py


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, str, int]]:
    """(target module, imported name or '', line) for every reportlib import in the file, at any depth."""
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "reportlib"]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, path.name == "__init__.py", node)
            if target.split(".")[0] != "reportlib":
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.append((sub, "", node.lineno) if sub in modules else (target, a.name, node.lineno))
    return out


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else TOP


def _graph() -> tuple[dict[str, set[str]], list[str], list[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    upward, private = [], []
    for name, path in modules.items():
        for target, imported, line in imports_of(name, path, modules):
            if target == "reportlib" and imported in ("__version__",):
                continue
            if target not in modules:
                raise AssertionError(f"{path}:{line} imports {target}, which is not a module of the package")
            graph[name].add(target)
            if layer(target) > layer(name):
                upward.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line}: {name} ({_layer_name(name)}) imports "
                    f"{target} ({_layer_name(target)})"
                )
            if imported.startswith("_") and not imported.startswith("__") and target != name:
                private.append(f"{path.relative_to(PACKAGE.parent)}:{line}: from {target} import {imported}")
    return graph, upward, private


def _layer_name(module: str) -> str:
    n = layer(module)
    return LAYERS[n] if n < TOP else "top"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t == m or t == "reportlib":
                continue
            if state.get(t) == 1:
                return stack[stack.index(t) :] + [t]
            if state.get(t) is None:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if state.get(m) is None:
            found = visit(m)
            if found:
                return found
    return None


def test_every_module_sits_in_a_layer_folder():
    loose = [m for m in _modules() if layer(m) == TOP and m not in ("reportlib", "reportlib.cli", "reportlib.__main__")]
    assert not loose, f"modules outside the layer folders {LAYERS}: {loose}"


def test_no_import_points_up_a_layer():
    _, upward, _ = _graph()
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def test_no_private_name_is_imported_across_modules():
    _, _, private = _graph()
    assert not private, "private names imported across modules (make them public helpers):\n" + "\n".join(private)


def test_no_import_cycle():
    graph, _, _ = _graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert find_cycle(graph) == expected


def test_the_checks_see_a_planted_upward_and_private_import(tmp_path, monkeypatch):
    """The checks would fail on a violation: plant one in a copy of the package."""
    import shutil

    copy = tmp_path / "reportlib"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    bad = copy / "metrics" / "contacts.py"
    bad.write_text(
        bad.read_text(encoding="utf-8")
        + "\n\ndef _planted():\n    from reportlib.delivery.run import _load_renderer\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(__import__(__name__), "PACKAGE", copy)
    _, upward, private = _graph()
    assert any("reportlib.metrics.contacts (metrics) imports reportlib.delivery.run (delivery)" in u for u in upward)
    assert any("from reportlib.delivery.run import _load_renderer" in p for p in private)
