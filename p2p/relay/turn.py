"""TURN credentials in the TURN REST API scheme, for a coturn run with `--use-auth-secret`.

    username = "<expiry unix time>:<random id>"
    password = base64(HMAC-SHA1(static-auth-secret, username))

coturn recomputes the password from its `static-auth-secret` and refuses a username whose
expiry has passed, so the relay shares nothing with coturn but that secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from p2p.relay.errors import RelayError

_TURN_URL = re.compile(r"(turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})")


@dataclass(frozen=True)
class TurnCredentials:
    """What a node passes to ICE for one TURN server, several transports."""

    username: str
    password: str
    ttl: int
    urls: tuple[str, ...]


def password_for(secret: bytes, username: str) -> str:
    """The TURN REST API password of `username` under coturn's static-auth-secret."""
    digest = hmac.new(secret, username.encode("ascii"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def make_credentials(secret: bytes, urls: tuple[str, ...], now: float, ttl: float) -> TurnCredentials:
    """Fresh credentials valid until `now + ttl` (unix time), under a random id."""
    username = f"{int(now + ttl)}:{os.urandom(8).hex()}"
    return TurnCredentials(username, password_for(secret, username), int(ttl), urls)


def turn_urls(turn: str, turns: str | None = None) -> tuple[str, ...]:
    """The URLs handed to nodes for `--turn turn:HOST:PORT` (UDP, then TCP) and `--turns turns:HOST:PORT`.

    `RelayError` with one sentence if one is not such an address.
    """
    out: list[str] = []
    for url, scheme in ((turn, "turn"), (turns, "turns")):
        if url is None:
            continue
        match = _TURN_URL.fullmatch(url.strip())
        if match is None or match.group(1) != scheme or not 0 < int(match.group(3)) < 65536:
            raise RelayError(f"{url!r} is not a {scheme}:HOST:PORT address")
        base = match.group(0)
        if scheme == "turn":
            out += [f"{base}?transport=udp", f"{base}?transport=tcp"]
        else:
            out.append(f"{base}?transport=tcp")
    return tuple(out)


def read_secret(path: str) -> bytes:
    """coturn's static-auth-secret from the first line of a file; `RelayError` if unreadable or empty."""
    try:
        with open(path, "rb") as fh:
            secret = fh.readline().strip()
    except OSError as exc:
        raise RelayError(f"cannot read the TURN secret file {path}: {exc.strerror}") from None
    if not secret:
        raise RelayError(f"the TURN secret file {path} is empty")
    return secret
