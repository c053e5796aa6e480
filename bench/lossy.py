"""User-space loss for a whole session set-up (kernel netem is not available here).

* `lose_datagrams(session, loss, rng)`: every UDP datagram of the session's ICE sockets (STUN
  checks, DTLS, SCTP: everything after signaling) is dropped with probability `loss`, in both
  directions, by wrapping the sockets aioice opens as soon as they are gathered.
* `LossyTcpProxy`: a local TCP proxy for the signaling conversation. TCP repairs loss itself, so
  what loss costs TCP is time: each chunk is held back one retransmission timeout (200 ms, then
  doubling: Linux's minimum RTO) per simulated loss, and a lost SYN costs one second, as Linux's
  initial SYN timeout does. Order is kept.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from p2p.session import Session


class _LossyTransport:
    """An asyncio DatagramTransport that drops what it sends with probability `loss`."""

    def __init__(self, inner: asyncio.DatagramTransport, loss: float, rng: random.Random, counts: dict[str, int]) -> None:
        self._inner = inner
        self._loss = loss
        self._rng = rng
        self._counts = counts

    def sendto(self, data: bytes, addr: Any = None) -> None:
        self._counts["sent"] += 1
        if self._rng.random() < self._loss:
            self._counts["dropped_out"] += 1
            return
        self._inner.sendto(data, addr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def lose_datagrams(session: Session, loss: float, rng: random.Random, counts: dict[str, int]) -> None:
    """Drop `loss` of the session's datagrams both ways (install before its first SDP is made)."""
    gatherer = session.pc.sctp.transport.transport.iceGatherer  # type: ignore[union-attr]
    gather = gatherer.gather

    async def lossy_gather() -> None:
        await gather()
        for protocol in gatherer._connection._protocols:
            protocol.transport = _LossyTransport(protocol.transport, loss, rng, counts)
            receive = protocol.datagram_received

            def datagram_received(data: bytes, addr: Any, receive: Any = receive) -> None:
                counts["received"] += 1
                if rng.random() < loss:
                    counts["dropped_in"] += 1
                    return
                receive(data, addr)

            protocol.datagram_received = datagram_received  # type: ignore[method-assign]

    gatherer.gather = lossy_gather  # type: ignore[method-assign]


class LossyTcpProxy:
    """Forwards TCP from `listen` to `upstream`, delaying as TCP under `loss` would."""

    def __init__(self, upstream: tuple[str, int], loss: float, rng: random.Random, rto: float = 0.2) -> None:
        self.upstream = upstream
        self.loss = loss
        self.rng = rng
        self.rto = rto
        self.server: asyncio.Server | None = None

    def _delay(self, first: float) -> float:
        delay, timeout = 0.0, first
        while self.rng.random() < self.loss:
            delay += timeout
            timeout *= 2
        return delay

    async def async_start(self, host: str = "127.0.0.1") -> tuple[str, int]:
        self.server = await asyncio.start_server(self._on_client, host, 0)
        sock = self.server.sockets[0].getsockname()
        return str(sock[0]), int(sock[1])

    async def async_stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self._delay(1.0))  # the SYN (or its SYN-ACK) lost
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        ready_at = 0.0
        try:
            while chunk := await reader.read(65536):
                ready_at = max(ready_at, loop.time()) + self._delay(self.rto)
                await asyncio.sleep(max(0.0, ready_at - loop.time()))
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()
