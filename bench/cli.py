"""`python -m bench cli`: a command with no node, the same through a running node, and how soon a node takes commands.

Every figure is a median of separate processes started the way a user starts them
(the venv's `hubbub` script), next to floors measured in the same run: a bare
`python -c pass`, and the same Python opening the profile's database with
`sqlite3` and reading the room list. Nodes run with `--no-mdns` on 127.0.0.1
only (the network rule).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HUBBUB = Path(sys.executable).with_name("hubbub")
ROOMS = 5
MESSAGES_PER_ROOM = 20
SOCKET = "node.sock"  # app/control_client.py SOCKET_NAME; a bench must not import the app it times


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "HUBBUB_PROFILE"}


def _make_profile(path: Path) -> None:
    """A profile with ROOMS rooms of a few messages each, made in a child process (this one stays light)."""
    code = ("import sys; from pathlib import Path; from app.node import Node; from app.profile import open_profile\n"
            "node = Node(open_profile(Path(sys.argv[1]), display_name='bench'))\n"
            f"for i in range({ROOMS}):\n"
            "    room = node.create_room(f'Room {i}')\n"
            f"    room.post_many('general', [f'message {{j}}' for j in range({MESSAGES_PER_ROOM})])\n"
            "node.close()\n")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=_env())


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return elapsed


def _median(argv: list[str], runs: int) -> float:
    _timed(argv)  # warm the page cache once; not counted
    return statistics.median(_timed(argv) for _ in range(runs))


def _ask(path: Path, argv: list[str]) -> bool:
    """One command over the node's control socket; True when the node ran it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    try:
        sock.connect(str(path))
        sock.sendall(json.dumps({"argv": argv}).encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        return False
    finally:
        sock.close()
    try:
        return int(json.loads(b"".join(chunks)).get("code", 1)) == 0
    except ValueError:
        return False


def _start_node(profile: Path) -> tuple[subprocess.Popen[bytes], float, float]:
    """Start `hubbub node` (loopback, no mDNS); returns it, the seconds until it answered `room list`,
    and the seconds until its networking was up (its `listening` line)."""
    sock = profile / SOCKET
    start = time.perf_counter()
    proc = subprocess.Popen([str(HUBBUB), "--profile", str(profile), "node", "--no-mdns", "--host", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
    listening: list[float] = []

    def watch() -> None:
        assert proc.stdout is not None
        if proc.stdout.readline().startswith(b"listening "):
            listening.append(time.perf_counter() - start)
        proc.stdout.read()  # keep the pipe drained until the node exits

    threading.Thread(target=watch, daemon=True).start()
    while not _ask(sock, ["room", "list"]):
        if proc.poll() is not None or time.perf_counter() - start > 60:
            proc.kill()
            raise RuntimeError("hubbub node did not start taking commands")
        time.sleep(0.002)
    ready = time.perf_counter() - start
    while not listening:
        if proc.poll() is not None or time.perf_counter() - start > 60:
            proc.kill()
            raise RuntimeError("hubbub node did not start its networking")
        time.sleep(0.002)
    return proc, ready, listening[0]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(quick: bool = False) -> dict[str, Any]:
    runs = 3 if quick else 15
    starts = 1 if quick else 7
    out: dict[str, Any] = {"rooms": ROOMS}
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "p"
        _make_profile(profile)
        db = profile / "hubbub.sqlite"
        out["floor_python_s"] = _median([sys.executable, "-c", "pass"], runs)
        out["floor_sqlite_s"] = _median([sys.executable, "-c", "import sqlite3, sys; "
                                         "sqlite3.connect(sys.argv[1]).execute('SELECT room_id, name FROM rooms').fetchall()",
                                         str(db)], runs)
        room_list = [str(HUBBUB), "--profile", str(profile), "room", "list"]
        out["cli_command_s"] = _median(room_list, runs)
        ready, network = [], []
        for _ in range(starts):
            proc, seconds, listening = _start_node(profile)
            ready.append(seconds)
            network.append(listening)
            _stop(proc)
        out["node_ready_s"] = statistics.median(ready)
        out["node_network_s"] = statistics.median(network)  # for reference: until peers can reach it
        proc, _, _ = _start_node(profile)
        try:
            out["cli_via_node_s"] = _median(room_list, runs)
        finally:
            _stop(proc)
    out["cli_command_over_floor"] = out["cli_command_s"] / out["floor_sqlite_s"]
    out["cli_via_node_over_floor"] = out["cli_via_node_s"] / out["floor_python_s"]
    out["node_ready_over_floor"] = out["node_ready_s"] / out["floor_python_s"]
    return out
