"""No import circles in app/, p2p/, crdt/ or ui/: every import counts, at module level, in a function or under TYPE_CHECKING.

A lazy import (inside a function) or one under `if TYPE_CHECKING:` still says that one module
depends on the other, so a circle through it is a circle of dependencies all the same; the usual
cure is a small module holding the shared protocol or types that both sides import.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "p2p", "crdt", "ui")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            out[module_name(path, root)] = path
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of `known` that module `name` imports anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        # The deepest known module named by `target` (a dotted import names its packages too,
        # but a package is not counted as importing its own submodules' importers).
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                add(full if full in known else module)
    return found


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    known = all_modules(root, packages)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles() -> None:
    graph = import_graph()
    found = circles(graph)
    described = []
    for component in found:
        members = set(component)
        edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
        described.append("; ".join(edges))
    assert described == []


def test_the_graph_is_not_empty() -> None:
    graph = import_graph()
    assert len(graph) > 50 and sum(len(v) for v in graph.values()) > 100, "the checker would prove nothing"


@pytest.mark.parametrize("style", ["plain", "lazy", "type_checking", "relative"])
def test_checker_finds_a_circle(tmp_path: Path, style: str) -> None:
    """The checker sees a circle however the import back is written."""
    pkg = tmp_path / "app"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a.py").write_text("from app.sub import b\n", encoding="utf-8")
    back = {
        "plain": "import app.a\n",
        "lazy": "def f():\n    from app import a\n",
        "type_checking": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.a import X\n",
        "relative": "from ..a import X\n",
    }[style]
    (pkg / "sub" / "b.py").write_text(back, encoding="utf-8")
    (pkg / "c.py").write_text("from . import a\n", encoding="utf-8")  # into the circle, not part of it
    assert circles(import_graph(tmp_path, ["app"])) == [["app.a", "app.sub.b"]]


def test_checker_passes_a_tree(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import X\n", encoding="utf-8")  # a package re-exporting
    (pkg / "a.py").write_text("from app.b import Y\nX = Y\n", encoding="utf-8")
    (pkg / "b.py").write_text("Y = 1\n", encoding="utf-8")
    graph = import_graph(tmp_path, ["app"])
    assert graph["app.a"] == {"app.b"} and circles(graph) == []
