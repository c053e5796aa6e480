"""Relay addresses: `hubbub-relay://HOST:PORT` (plain WebSocket) and `hubbub-relay+tls://HOST[:PORT]` (wss)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from p2p.relay.errors import RelayError

PLAIN = "hubbub-relay"
TLS = "hubbub-relay+tls"
TLS_DEFAULT_PORT = 443
MAX_URL_LENGTH = 512

_HOST = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
_PATH = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*")


@dataclass(frozen=True)
class RelayAddress:
    """A parsed relay address; `url` is its canonical form (what nodes and rooms store)."""

    host: str
    port: int
    tls: bool
    path: str = "/"

    @property
    def url(self) -> str:
        scheme = TLS if self.tls else PLAIN
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.tls and self.port == TLS_DEFAULT_PORT else f":{self.port}"
        path = "" if self.path == "/" else self.path
        return f"{scheme}://{host}{port}{path}"

    @property
    def ws_url(self) -> str:
        """The WebSocket URL the client dials (`ws://` or `wss://`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'wss' if self.tls else 'ws'}://{host}:{self.port}{self.path}"

    def __str__(self) -> str:
        return self.url


def parse_relay_url(text: str) -> RelayAddress:
    """Parse a relay address; `RelayError` with one sentence for anything else."""
    junk = RelayError(f"{_shown(text)} is not a relay address "
                      "(hubbub-relay://HOST:PORT or hubbub-relay+tls://HOST[:PORT])")
    if not isinstance(text, str) or len(text) > MAX_URL_LENGTH:
        raise junk
    text = text.strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in (PLAIN, TLS):
        raise junk
    tls = scheme == TLS
    authority, slash, path = rest.partition("/")
    path = "/" + path if slash else "/"
    if not _PATH.fullmatch(path):
        raise junk
    host, port_text = _split_authority(authority, junk)
    if port_text is None:
        if not tls:
            raise RelayError(f"{_shown(text)} has no port; a plain relay address is hubbub-relay://HOST:PORT")
        port = TLS_DEFAULT_PORT
    else:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise junk
        port = int(port_text)
    return RelayAddress(host, port, tls, path)


def _split_authority(authority: str, junk: RelayError) -> tuple[str, str | None]:
    if authority.startswith("["):
        host, bracket, tail = authority[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise junk
        try:
            host = str(ipaddress.IPv6Address(host))
        except ValueError:
            raise junk from None
        return host, tail[1:] if tail else None
    host, colon, port = authority.partition(":")
    if not host or not _HOST.fullmatch(host):
        raise junk
    return host.lower().rstrip("."), port if colon else None


def _shown(text: object) -> str:
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "…"
