"""The CLI side of the control socket: hand a command to the `hubbub node` running on the same profile."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from .control_wire import MAX_REPLY, decode_reply, encode_request, split_progress
from .paths import SOCKET_NAME, resolve_profile_dir, socket_path

NOT_FORWARDED = ("node",)
PATH_FLAGS = ("--out", "--file", "--original", "--avatar")


def _argv_for(args: argparse.Namespace) -> list[str]:
    raw: list[str] = getattr(args, "_argv", None) or sys.argv[1:]
    out = []
    skip = False
    for i, a in enumerate(raw):
        if skip:
            skip = False
            continue
        if a == "--profile":
            skip = True
            continue
        if a.startswith("--profile="):
            continue
        out.append(a)
    # Paths are the CLI's, not the node's: make them absolute.
    for i, a in enumerate(out):
        flag, eq, value = a.partition("=")
        if flag in PATH_FLAGS and eq:
            out[i] = f"{flag}={Path(value).expanduser().resolve()}"
        elif a in PATH_FLAGS and i + 1 < len(out):
            out[i + 1] = str(Path(out[i + 1]).expanduser().resolve())
    if args.command == "import":
        out[-1] = str(Path(args.file).resolve())
    if args.command == "room" and getattr(args, "room_command", "") == "icon":
        out[-1] = str(Path(args.picture).expanduser().resolve())
    return out


def forward_if_running(args: argparse.Namespace) -> int | None:
    """Run the command inside the profile's running node; None if no node is running there."""
    if args.command in NOT_FORWARDED:
        return None
    path = socket_path(resolve_profile_dir(args.profile))
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None  # a stale socket from a node that died: run the command here
    timeout = float(getattr(args, "timeout", 60.0) or 60.0) + 30.0
    sock.settimeout(timeout)
    try:
        with sock:
            stdin = sys.stdin.read().splitlines() if args.command == "send" and args.text == "-" else None
            tty = args.command == "download" and sys.stderr.isatty()  # the node sends progress lines first
            sock.sendall(encode_request(_argv_for(args), stdin, tty))
            raw = _read_reply(sock)
        code, out, err = decode_reply(raw)
    except (OSError, ValueError):  # ControlWireError is a ValueError
        print("hubbub: the running node did not answer; try again, or stop it and retry.", file=sys.stderr)
        return 1
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


def _read_reply(sock: socket.socket) -> bytes:
    """The node's reply; lines before it are progress (JSON objects with "progress"), shown on stderr as they come."""
    buffer = b""
    total = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return buffer
        total += len(chunk)
        if total > MAX_REPLY:
            return b""
        buffer += chunk
        texts, buffer = split_progress(buffer)
        for text in texts:
            sys.stderr.write(text)
            sys.stderr.flush()


def profile_has_running_node(profile_dir: Path) -> bool:
    path = socket_path(profile_dir)
    if not path.exists():
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


__all__ = ["SOCKET_NAME", "forward_if_running", "profile_has_running_node", "socket_path"]
