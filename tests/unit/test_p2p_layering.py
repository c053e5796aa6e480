"""The p2p package never imports crdt, app or ui (imports run ui -> app -> {p2p, crdt})."""

from __future__ import annotations

import ast
from pathlib import Path

P2P = Path(__file__).resolve().parents[2] / "p2p"
FORBIDDEN = {"crdt", "app", "ui"}


def test_p2p_imports_no_upper_or_sibling_layer() -> None:
    offenders = []
    for path in sorted(P2P.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
    assert len(list(P2P.glob("*.py"))) > 5


def test_every_p2p_module_says_what_it_is() -> None:
    for path in P2P.glob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and doc.strip(), f"{path.name} has no docstring"
