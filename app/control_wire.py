"""The control socket's messages: one JSON request line from the CLI, one JSON reply from the node."""

from __future__ import annotations

import json

from crdt.jsonsafe import loads_capped

MAX_REQUEST = 1024 * 1024
MAX_REPLY = 64 * 1024 * 1024


class ControlWireError(ValueError):
    """A request or reply on the control socket that does not parse."""


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def encode_request(argv: list[str], stdin: list[str] | None = None, tty: bool = False) -> bytes:
    """One request line; `tty`: the CLI's stderr is a terminal, so the node may send progress lines first."""
    request: dict[str, object] = {"argv": argv}
    if stdin is not None:
        request["stdin"] = stdin
    if tty:
        request["tty"] = True
    return json.dumps(request).encode() + b"\n"


def decode_request(line: bytes) -> tuple[list[str], list[str] | None, bool]:
    """(argv, stdin lines or None, tty) of one request line; raises ControlWireError and nothing else."""
    request = loads_capped(line, ControlWireError, max_size=MAX_REQUEST, what="the command")
    if not isinstance(request, dict) or not _strings(request.get("argv")):
        raise ControlWireError("argv must be a list of strings")
    stdin = request.get("stdin")
    if stdin is not None and not _strings(stdin):
        raise ControlWireError("stdin must be a list of lines")
    tty = request.get("tty", False)
    if not isinstance(tty, bool):
        raise ControlWireError("tty must be true or false")
    return request["argv"], stdin, tty


def encode_progress(text: str) -> bytes:
    """A progress line the node sends before its reply (to a CLI on a terminal)."""
    return json.dumps({"progress": text}).encode() + b"\n"


def split_progress(buffer: bytes) -> tuple[list[str], bytes]:
    """The progress texts of the complete lines at the start of `buffer`, and the rest (the reply, or more to come).
    A line that is not a progress line is where the reply begins."""
    texts: list[str] = []
    while b"\n" in buffer:
        line, rest = buffer.split(b"\n", 1)
        try:
            obj = loads_capped(line, ControlWireError, max_size=MAX_REQUEST, what="a progress line")
        except ControlWireError:
            break
        if not isinstance(obj, dict) or set(obj) != {"progress"} or not isinstance(obj["progress"], str):
            break
        texts.append(obj["progress"])
        buffer = rest
    return texts, buffer


def encode_reply(code: int, out: str, err: str) -> bytes:
    return json.dumps({"code": code, "stdout": out, "stderr": err}).encode()


def decode_reply(raw: bytes) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the node's reply; raises ControlWireError and nothing else."""
    if not raw:
        raise ControlWireError("the node closed the connection without answering")
    reply = loads_capped(raw, ControlWireError, max_size=MAX_REPLY, what="the node's answer")
    if not isinstance(reply, dict):
        raise ControlWireError("the node's answer is not an object")
    code, out, err = reply.get("code"), reply.get("stdout", ""), reply.get("stderr", "")
    if type(code) is not int or not 0 <= code <= 255 or not isinstance(out, str) or not isinstance(err, str):
        raise ControlWireError("the node's answer is malformed")
    return code, out, err
