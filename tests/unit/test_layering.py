"""Imports run one way, ui -> app -> {p2p, crdt}; and `packaging/` is not a Python package."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("app", "p2p", "crdt", "ui")
FORBIDDEN = {
    "crdt": {"p2p", "app", "ui"},
    "p2p": {"crdt", "app", "ui"},
    "app": {"ui"},
    "ui": {"crdt", "p2p"},
}


def imported_top_levels(path: Path, layer: str) -> list[tuple[int, str]]:
    """(line, top-level package) for every import in a module, relative imports resolved inside `layer`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                out.append((node.lineno, node.module.split(".")[0]))
            elif node.level > 0:
                depth = len(path.relative_to(ROOT / layer).parts) - 1  # package depth below the layer
                if node.level > depth + 1:
                    out.append((node.lineno, "<above the layer>"))
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                out.append((node.lineno, str(node.args[0].value).split(".")[0]))
    return out


def modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if (ROOT / layer).is_dir()])
def test_imports_run_one_way(layer: str) -> None:
    offenders = []
    for path in modules(layer):
        for line, top in imported_top_levels(path, layer):
            if top in FORBIDDEN[layer] or top == "<above the layer>":
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {top}")
    assert offenders == []


def test_the_layers_exist_and_have_modules() -> None:
    for layer in ("app", "p2p", "crdt"):
        assert len(modules(layer)) > 3, f"{layer}/ looks empty: the layering test would prove nothing"


def test_checker_catches_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself finds plain, dotted, relative-escape and dynamic imports."""
    fake = tmp_path / "crdt"
    (fake / "sub").mkdir(parents=True)
    (fake / "a.py").write_text("import app.room\nfrom p2p import x\n", encoding="utf-8")
    (fake / "sub" / "b.py").write_text("from ...ui import y\nimport importlib\nimportlib.import_module('ui.z')\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = {top for p in sorted(fake.rglob("*.py")) for _, top in imported_top_levels(p, "crdt")}
    assert {"app", "p2p", "<above the layer>", "ui"} <= found


def test_packaging_is_not_a_python_package() -> None:
    assert not (ROOT / "packaging" / "__init__.py").exists()
