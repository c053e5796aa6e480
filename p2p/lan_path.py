"""The LAN signaling path: the node's TCP endpoint, and TCP connections to other nodes' endpoints.

One TCP connection carries one signaling conversation (length-prefixed frames, p2p.signaling),
opened by the dialer and closed by both once the offer is answered. Sessions set up through it
have the route "lan". Admission (caps, rates) is the node's: this path only moves frames.
"""

from __future__ import annotations

import asyncio
import logging

from p2p.errors import NotConnectedError, SignalingError
from p2p.frames import Frame
from p2p.routes import Address, Inbound, Route
from p2p.signaling import async_close_writer, async_read_frame, write_frame

log = logging.getLogger(__name__)

LAN = "lan"


class LanConversation:
    """A signaling conversation over one TCP connection."""

    path = LAN
    route: Route = "lan"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._closed = False
        try:
            peer = writer.get_extra_info("peername")
            self.source = str(peer[0]) if peer else "?"
        except Exception:
            self.source = "?"

    def send(self, frame: bytes) -> None:
        if not self._closed:
            write_frame(self._writer, frame)

    async def async_flush(self) -> None:
        await self._writer.drain()

    async def async_receive(self, timeout: float) -> Frame:
        return await async_read_frame(self._reader, timeout)

    async def async_close(self) -> None:
        if not self._closed:
            self._closed = True
            await async_close_writer(self._writer)


class LanPath:
    """The TCP signaling endpoint on `bind_host:port`, and dialing other endpoints."""

    name = LAN

    def __init__(self, bind_host: str = "0.0.0.0", port: int = 0) -> None:
        self.bind_host = bind_host
        self.port = port
        self._server: asyncio.Server | None = None
        self._inbound: Inbound | None = None

    async def async_start(self, inbound: Inbound) -> None:
        self._inbound = inbound
        self._server = await asyncio.start_server(self._on_connection, self.bind_host, self.port)

    async def async_stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), 1.0)
        except asyncio.TimeoutError:
            pass

    def close_listener(self) -> None:
        """Stop accepting at once (the rest of `async_stop` may follow later)."""
        if self._server is not None:
            self._server.close()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of the endpoint."""
        if self._server is None or not self._server.sockets:
            raise NotConnectedError("node is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def async_open(self, address: Address, timeout: float) -> LanConversation:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(address.host, address.port), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise SignalingError(f"cannot reach {address.host}:{address.port}: {exc}") from None
        return LanConversation(reader, writer)

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conv = LanConversation(reader, writer)
        if self._inbound is None:
            await conv.async_close()
            return
        await self._inbound(conv)
