"""Writes the seed corpus, tests/fuzz/corpus/<target>/<label>: small valid and near-valid inputs.

Run `python -m tests.fuzz corpus` after changing a format or adding a target; the output is
deterministic (fixed keys and nonces), so an unchanged format rewrites identical files (except
for the targets in VOLATILE).
"""

from __future__ import annotations

import importlib
import re
import shutil

from .registry import CORPUS, FAMILIES

VOLATILE = frozenset({"p2p.control.receive"})
"""Targets whose seeds hold random bytes (a handshake's padding tokens and sealed labels): the
same files, not the same bytes, on each run; any run's bytes are valid seeds."""


def all_seeds() -> dict[str, list[tuple[str, bytes]]]:
    out: dict[str, list[tuple[str, bytes]]] = {}
    for module_name, names in FAMILIES.items():
        seeds = importlib.import_module(module_name).seeds()
        missing = set(names) - set(seeds)
        if missing:
            raise SystemExit(f"{module_name}.seeds() gives no seeds for {sorted(missing)}")
        out.update(seeds)
    return out


def write_corpus() -> int:
    """Replace every target's corpus folder with its seeds; returns the number of files written."""
    count = 0
    for name, items in sorted(all_seeds().items()):
        folder = CORPUS / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        labels = [label for label, _ in items]
        if len(set(labels)) != len(labels):
            raise SystemExit(f"{name}: seed labels repeat: {labels}")
        for label, data in items:
            if not re.fullmatch(r"[a-z0-9-]+", label):
                raise SystemExit(f"{name}: seed label {label!r} is not a plain file name")
            (folder / label).write_bytes(data)
            count += 1
    return count
