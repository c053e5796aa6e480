"""A quick command loads none of the heavy stacks: no Qt, aiortc, numpy, zeroconf or pycrdt to list rooms, with or without a node."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.clitools import ROOT, env, hub, ok, start_node, stop_node

HEAVY = ("PySide6", "aiortc", "aioice", "av", "numpy", "zeroconf", "pycrdt", "opuslib", "sounddevice", "p2p")

# Run the console script's entry point in a fresh interpreter, then report which top-level modules it loaded.
PROBE = """
import contextlib, io, json, sys
from ui.entry import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded_by(*argv: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env(), cwd=str(ROOT),
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_room_list_imports_no_heavy_stack(tmp_path: Path) -> None:
    profile = tmp_path / "p"
    room = ok(hub(profile, "room", "create", "Light")).strip()
    direct = loaded_by("--profile", str(profile), "room", "list")
    assert direct["code"] == 0 and room in str(direct["out"])
    assert [m for m in HEAVY if m in direct["modules"]] == []  # type: ignore[operator]
    log = tmp_path / "node.log"
    node, _ = start_node(profile, log)
    try:
        forwarded = loaded_by("--profile", str(profile), "room", "list")
        assert forwarded["code"] == 0 and room in str(forwarded["out"])
        assert [m for m in HEAVY if m in forwarded["modules"]] == []  # type: ignore[operator]
        assert "sqlite3" not in forwarded["modules"]  # type: ignore[operator]  # the node read the database, not us
        assert "ran `room` for the CLI" in log.read_text()
    finally:
        stop_node(node, profile, log)
