"""Which STUN/TURN servers a new session gets: TURN over UDP first, a new peer connection over TCP when that failed.

aiortc uses only the first STUN and the first TURN server of a list, has no ICE restart, and one
dead server stalls gathering for 5 s. So the node keeps the whole list and hands each session
one *attempt*:

0. no TURN yet, while a relay that offers it is handing out credentials: a session off the LAN
   waits for them (at most `TURN_WAIT`); one that was built without TURN anyway and did not
   connect is tried again as soon as TURN servers arrive (`PeerNode`);
1. STUN + TURN over UDP (host candidates always come too; ICE prefers host, then server
   reflexive, then relayed pairs);
2. TURN over TCP (or TLS) alone, for a peer with whom attempt 1 failed, or for every peer once
   the TURN server did not answer a STUN binding over UDP. STUN is left out: with it the peers'
   server-reflexive UDP pair comes back, passes its small ICE checks where big DTLS packets do
   not, outranks the relayed pair, and the session fails again.

`IcePlan` is sans-IO apart from `async_probe_udp`, a single STUN binding request.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections import OrderedDict
from collections.abc import Sequence

from p2p.routes import IceServer

MAGIC_COOKIE = 0x2112A442
PROBE_TIMEOUT = 1.0
TURN_WAIT = 1.5
"""Seconds a session off the LAN waits for TURN credentials a relay is about to hand out (`expect_turn`)."""
MAX_PEERS = 1024


def has_turn(servers: Sequence[IceServer]) -> bool:
    """True if `servers` holds a TURN server (over any transport)."""
    return any(s.urls.startswith(("turn:", "turns:")) for s in servers)


def _transport(server: IceServer) -> str:
    url = server.urls
    if url.startswith("turns:"):
        return "tls"
    return "tcp" if url.endswith("?transport=tcp") else "udp"


def _host_port(url: str) -> tuple[str, int] | None:
    body = url.split(":", 1)[1].split("?", 1)[0]
    host, _, port = body.rpartition(":")
    host = host.strip("[]")
    return (host, int(port)) if host and port.isdigit() else None


def with_stun(servers: Sequence[IceServer]) -> list[IceServer]:
    """`servers` with a `stun:HOST:PORT` entry first, taken from the first `turn:` server, if none is there.

    A TURN server answers STUN binding requests on its listening port, so it gives the
    server-reflexive candidates that a direct pair through two cone NATs needs.
    """
    out = list(servers)
    if any(s.urls.startswith("stun:") for s in out):
        return out
    turn = next((s for s in out if s.urls.startswith("turn:")), None)
    where = None if turn is None else _host_port(turn.urls)
    if where is None or ":" in where[0]:  # aiortc reads no IPv6 literal in a STUN/TURN URL
        return out
    return [IceServer(f"stun:{where[0]}:{where[1]}"), *out]


class IcePlan:
    """The servers to use per attempt, the UDP verdict, and per peer the attempt to use next."""

    def __init__(self, servers: Sequence[IceServer] = ()) -> None:
        self.servers: list[IceServer] = list(servers)
        self.udp_ok: bool | None = None
        """None until probed; False when the TURN server did not answer over UDP."""
        self._failures: OrderedDict[bytes, int] = OrderedDict()

    @property
    def stun(self) -> IceServer | None:
        return next((s for s in self.servers if s.urls.startswith("stun:")), None)

    @property
    def turn_udp(self) -> IceServer | None:
        return next((s for s in self.servers if s.urls.startswith("turn:") and _transport(s) == "udp"), None)

    @property
    def turn_stream(self) -> IceServer | None:
        return next((s for s in self.servers if s.urls.startswith(("turn:", "turns:")) and _transport(s) != "udp"),
                    None)

    def attempts(self) -> list[list[IceServer]]:
        """The server lists to try, in order (at least one list, maybe empty: host candidates only)."""
        stun, udp, stream = self.stun, self.turn_udp, self.turn_stream
        first: list[IceServer] = []
        if self.udp_ok is not False:
            first = [s for s in (stun, udp) if s is not None]
        out = [first] if first or stream is None else []
        if stream is not None:
            out.append([stream])  # no STUN: a UDP pair is what failed (its checks can pass where DTLS cannot)
        if not out:
            out.append([s for s in self.servers if not s.urls.startswith(("turn:", "turns:"))][:1])
        return out

    def for_peer(self, peer: bytes) -> tuple[int, list[IceServer]]:
        """(attempt number, servers) for the next session with `peer`."""
        attempts = self.attempts()
        index = self._failures.get(peer, 0) % len(attempts)
        return index, attempts[index]

    def failed(self, peer: bytes) -> None:
        """A session with `peer` never connected: the next one uses the next attempt."""
        self._failures[peer] = self._failures.get(peer, 0) + 1
        self._failures.move_to_end(peer)
        while len(self._failures) > MAX_PEERS:
            self._failures.popitem(last=False)

    def succeeded(self, peer: bytes) -> None:
        """A session with `peer` authenticated: keep what worked."""
        attempts = len(self.attempts())
        if self._failures.get(peer, 0) % attempts == 0:
            self._failures.pop(peer, None)

    def probe_target(self) -> tuple[str, int] | None:
        """Where to send the UDP probe (the TURN server over UDP, else the STUN server)."""
        server = self.turn_udp or self.stun
        return None if server is None else _host_port(server.urls)


class _Probe(asyncio.DatagramProtocol):
    def __init__(self, transaction: bytes, answered: asyncio.Future[bool]) -> None:
        self.transaction = transaction
        self.answered = answered

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 20 and data[8:20] == self.transaction and not self.answered.done():
            self.answered.set_result(True)


async def async_probe_udp(target: tuple[str, int], timeout: float = PROBE_TIMEOUT) -> bool:
    """True if a STUN server answers a binding request over UDP within `timeout` (sent three times)."""
    loop = asyncio.get_running_loop()
    transaction = os.urandom(12)
    request = struct.pack(">HHI", 0x0001, 0, MAGIC_COOKIE) + transaction
    answered: asyncio.Future[bool] = loop.create_future()
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: _Probe(transaction, answered), remote_addr=target)
    except OSError:
        return False
    try:
        for _ in range(3):
            transport.sendto(request)
            try:
                return await asyncio.wait_for(asyncio.shield(answered), timeout / 3)
            except asyncio.TimeoutError:
                continue
        return False
    except OSError:
        return False
    finally:
        transport.close()
