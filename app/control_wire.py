"""The control socket's messages: one JSON request line from the CLI, one JSON reply from the node."""

from __future__ import annotations

import json


class ControlWireError(ValueError):
    """A request or reply on the control socket that does not parse."""


def encode_request(argv: list[str], stdin: list[str] | None = None) -> bytes:
    request: dict[str, object] = {"argv": argv}
    if stdin is not None:
        request["stdin"] = stdin
    return json.dumps(request).encode() + b"\n"


def decode_request(line: bytes) -> tuple[list[str], list[str] | None]:
    """(argv, stdin lines or None) of one request line (as app/control.py reads it)."""
    request = json.loads(line)
    argv = request["argv"]
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ControlWireError("argv must be a list of strings")
    stdin = request.get("stdin")
    if stdin is not None and (not isinstance(stdin, list) or not all(isinstance(x, str) for x in stdin)):
        raise ControlWireError("stdin must be a list of lines")
    return argv, stdin


def encode_reply(code: int, out: str, err: str) -> bytes:
    return json.dumps({"code": code, "stdout": out, "stderr": err}).encode()


def decode_reply(raw: bytes) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the node's reply (as app/control_client.py reads it)."""
    reply = json.loads(raw or b"{}")
    return int(reply.get("code", 1)), str(reply.get("stdout", "")), str(reply.get("stderr", ""))
