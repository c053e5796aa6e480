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


def encode_request(argv: list[str], stdin: list[str] | None = None) -> bytes:
    request: dict[str, object] = {"argv": argv}
    if stdin is not None:
        request["stdin"] = stdin
    return json.dumps(request).encode() + b"\n"


def decode_request(line: bytes) -> tuple[list[str], list[str] | None]:
    """(argv, stdin lines or None) of one request line; raises ControlWireError and nothing else."""
    request = loads_capped(line, ControlWireError, max_size=MAX_REQUEST, what="the command")
    if not isinstance(request, dict) or not _strings(request.get("argv")):
        raise ControlWireError("argv must be a list of strings")
    stdin = request.get("stdin")
    if stdin is not None and not _strings(stdin):
        raise ControlWireError("stdin must be a list of lines")
    return request["argv"], stdin


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
