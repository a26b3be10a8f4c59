"""The dependency direction is one way: reference <- properties <- reports <- app, and
inside properties/: the shared modules <- claims <- conformance <- audit <- propagation.

Every ``import`` / ``from ... import`` of every module (module level or inside a function)
is read from the source with :mod:`ast`, so a lazy import that breaks the layering fails
here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: folder -> the weight_init subpackages its modules must not import
FORBIDDEN = {
    "reference": ("weight_init.properties", "weight_init.reports", "weight_init.app"),
    "properties": ("weight_init.reports", "weight_init.app"),
    "reports": ("weight_init.app",),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


#: properties/ rooms, lowest first: a room may import the shared modules (properties/_*.py)
#: and the rooms before it, never one after it.
ROOMS = ("claims", "conformance", "audit", "propagation")


def _room_rules() -> dict[str, tuple[str, ...]]:
    rules = {}
    for i, room in enumerate(ROOMS):
        rules[f"properties/{room}"] = tuple(f"weight_init.properties.{r}" for r in ROOMS[i + 1 :])
    rules["properties/_"] = tuple(f"weight_init.properties.{r}" for r in ROOMS)
    return rules


@pytest.mark.parametrize("prefix", sorted(_room_rules()))
def test_no_upward_imports_between_rooms(prefix: str) -> None:
    forbidden = _room_rules()[prefix]
    paths = [p for p in sorted((ROOT / "properties").rglob("*.py"))
             if str(p.relative_to(ROOT)).startswith(prefix)]  # fmt: skip
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in paths
        for line, name in _imports(path)
        if forbidden and name.startswith(forbidden)
    ]
    assert not bad, f"{prefix}* must not import {forbidden}:\n" + "\n".join(bad)


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_upward_imports(folder: str) -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, name in _imports(path)
        if name.startswith(FORBIDDEN[folder])
    ]
    assert not bad, f"{folder}/ must not import {FORBIDDEN[folder]}:\n" + "\n".join(bad)


def test_the_layering_test_can_fail(tmp_path: Path) -> None:
    """The import reader sees a lazy import inside a function."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from weight_init.reports import render\n")
    assert (2, "weight_init.reports") in _imports(module)


def test_every_package_folder_is_installed() -> None:
    """Each folder with an ``__init__.py`` is listed in pyproject's packages (else the wheel,
    which tox and users install, silently lacks it while an editable install still works)."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {folder: name for name, folder in config["package-dir"].items()}
    listed = set(config["packages"])
    missing = []
    for folder, name in roots.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT / folder).parts
            package = ".".join((name, *rel))
            if package not in listed:
                missing.append(f"{package} ({init.parent.relative_to(ROOT)})")
    assert not missing, "not in [tool.setuptools] packages: " + ", ".join(missing)


def _module_names() -> dict[str, Path]:
    """Every module of the package by its import name (pyproject's package-dir)."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {folder: name for name, folder in config["package-dir"].items()}
    names: dict[str, Path] = {}
    for folder, package in folders.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts]
            if folder == "reference" and parts[0] in {"properties", "reports", "app"}:
                continue
            names[".".join([package, *[p for p in parts if p != "__init__"]])] = path
    return names


def _runtime_imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks are
    not run); ``from P import m`` counts as importing ``P.m`` when that is a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for n in ast.walk(stmt)
    }
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in known else node.module)
    return {name for name in out if name in known}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles() -> None:
    """No module imports (at run time, module level or inside a function) a module that
    imports it back, directly or through others."""
    known = _module_names()
    graph = {name: _runtime_imports(path, known) - {name} for name, path in known.items()}
    circles = _cycles(graph)
    assert not circles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in circles)


def test_the_circle_finder_can_fail() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
