"""The relay server: one aiohttp WebSocket endpoint; each connection speaks `p2p.relay.wire`.

What it holds per connection: its limits (`p2p.relay.limits`), its subscriptions
(`p2p.relay.rendezvous`) and a bounded queue of frames to send, drained by one writer task (a
client that does not read is dropped, never waited for). Mailbox requests run on one worker
thread (`p2p.relay.mailbox_store`), so an fsync never blocks the loop. Logs carry sizes, kinds
and 4-hex-digit prefixes of tokens and handles, never a payload, an auth or a whole token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from p2p.relay.config import RelayLimits
from p2p.relay.dispatch import Dispatcher
from p2p.relay.limits import ConnectionLimits, Limits
from p2p.relay.mailbox_store import MailboxStore
from p2p.relay.rendezvous import Rendezvous
from p2p.relay.turn import TurnCredentials
from p2p.relay.wire import Kind, encode, u32

log = logging.getLogger("hubbub.relay")

MAX_QUEUED_BYTES = 8 * 1024 * 1024
"""Frames waiting for one slow client, at most; past this the client is dropped."""
FLUSH_TIMEOUT = 1.0
"""Longest wait, when the relay closes a connection, for the frames still queued to it to be sent."""
MAX_STRIKES = 8
"""Malformed frames (or refused requests over the rate) a connection may send before it is closed."""


@dataclass(eq=False)
class Connection:
    """One client: its socket, its address, what it may still do and what waits to be sent to it."""

    ws: web.WebSocketResponse
    ip: str
    limits: ConnectionLimits
    number: int
    queue: deque[bytes] = field(default_factory=deque)
    queued: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False

    def send(self, frame: bytes) -> None:
        """Queue a frame; a client that lets too much pile up is closed."""
        if self.closing:
            return
        if self.queued + len(frame) > MAX_QUEUED_BYTES:
            log.info("conn %d: dropped, it does not read what it is sent", self.number)
            self.closing = True
            self.wake.set()
            return
        self.queue.append(frame)
        self.queued += len(frame)
        self.wake.set()


class TurnConfig:
    """The coturn beside the relay: its URLs and a way to mint credentials."""

    def __init__(self, urls: tuple[str, ...], secret: bytes) -> None:
        self.urls = urls
        self.secret = secret

    def credentials(self, now: float, ttl: float) -> TurnCredentials:
        from p2p.relay.turn import make_credentials

        return make_credentials(self.secret, self.urls, now, ttl)


class RelayServer:
    """The relay: `async_start(host, port)` listens, `async_stop()` closes everything."""

    def __init__(self, data_dir: Path, limits: RelayLimits | None = None, turn: TurnConfig | None = None) -> None:
        self.limits = limits or RelayLimits()
        self.data_dir = data_dir
        self.turn = turn
        self.admission = Limits(self.limits)
        self.rendezvous = Rendezvous(self.limits)
        self.store = MailboxStore(data_dir, self.limits)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-store")
        self.connections: set[Connection] = set()
        self.counters: dict[str, int] = {"forwards": 0, "puts": 0, "gets": 0, "errors": 0, "malformed": 0}
        self.dispatcher = Dispatcher(self)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._numbers = 0

    async def async_start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on `host:port` (port 0: any free one); returns the address bound."""
        app = web.Application(client_max_size=4096)
        app.router.add_get("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[:2] if sockets else (host, port)
        self._sweeper = asyncio.ensure_future(self._async_sweep())
        return str(bound[0]), int(bound[1])

    async def async_stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for conn in list(self.connections):
            conn.closing = True
            conn.wake.set()
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self.executor.shutdown(wait=True)
        self.store.close()

    def stats(self) -> dict[str, Any]:
        """What the relay holds now (bench, tests)."""
        boxes, envelopes = self.store.counts()
        return {"connections": len(self.connections), "tokens": len(self.rendezvous),
                "mailboxes": boxes, "envelopes": envelopes, "mailbox_bytes": self.store.total_bytes,
                "refused_connections": self.admission.refused_connections, **self.counters}

    async def in_store(self, fn: Any, *args: Any) -> Any:
        """Run a mailbox-store call on its worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def notify(self, tokens: set[bytes]) -> None:
        """Tell every subscriber of each token who else is under it."""
        for token in tokens:
            subs = self.rendezvous.subscribers(token)
            for conn, handle in subs:
                others = [h for c, h in subs if c is not conn]
                assert isinstance(conn, Connection)
                conn.send(encode(Kind.PEERS, 0, token, handle, items=others[:64]))

    # -- one connection ----------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ip = request.remote or "?"
        refusal = self.admission.admit(ip)
        if refusal is not None:
            log.info("refused a connection from an address over its limit: %s", refusal)
            return web.Response(status=429, text=refusal)
        self._numbers += 1
        ws = web.WebSocketResponse(max_msg_size=self.limits.max_frame, compress=False,
                                   heartbeat=min(30.0, self.limits.idle_timeout / 2),
                                   receive_timeout=self.limits.idle_timeout)
        conn = Connection(ws, ip, self.admission.for_connection(time.monotonic()), self._numbers)
        try:
            await ws.prepare(request)
            self.connections.add(conn)
            log.debug("conn %d: open", conn.number)
            writer = asyncio.ensure_future(self._async_write(conn))
            conn.send(encode(Kind.WELCOME, 0, u32(self.limits.max_frame), u32(self.limits.max_batch),
                             b"\x01" if self.turn else b"\x00"))
            try:
                await self._async_read(conn)
            finally:
                conn.closing = True
                conn.wake.set()
                await self._async_flush(writer)
        except (ConnectionError, asyncio.CancelledError, asyncio.TimeoutError):
            pass
        finally:
            self.connections.discard(conn)
            self.notify(self.rendezvous.drop(conn))
            self.admission.release(ip)
            if not ws.closed:
                await ws.close()
            log.debug("conn %d: closed", conn.number)
        return ws

    async def _async_read(self, conn: Connection) -> None:
        async for msg in conn.ws:
            if msg.type is WSMsgType.BINARY:
                strike = await self.dispatcher.async_frame(conn, msg.data)
            elif msg.type is WSMsgType.ERROR:
                log.debug("conn %d: websocket error %s", conn.number, type(conn.ws.exception()).__name__)
                return
            else:
                strike = True
            if strike:
                conn.limits.strikes += 1
                self.counters["malformed"] += 1
                if conn.limits.strikes >= MAX_STRIKES:
                    log.info("conn %d: closed after %d bad or refused frames", conn.number, conn.limits.strikes)
                    return
            if conn.closing:
                return

    @staticmethod
    async def _async_flush(writer: asyncio.Future[None]) -> None:
        """Let the writer send what is queued (the ERROR frames that explain a close), briefly."""
        try:
            await asyncio.wait_for(asyncio.shield(writer), FLUSH_TIMEOUT)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            pass
        finally:
            writer.cancel()

    async def _async_write(self, conn: Connection) -> None:
        try:
            while True:
                await conn.wake.wait()
                conn.wake.clear()
                while conn.queue and not conn.ws.closed:
                    frame = conn.queue.popleft()
                    conn.queued -= len(frame)
                    await conn.ws.send_bytes(frame)
                if conn.closing:
                    await conn.ws.close()
                    return
        except (ConnectionError, RuntimeError):
            conn.closing = True
            await conn.ws.close()

    async def _async_sweep(self) -> None:
        last_sweep = float("-inf")
        while True:
            if time.monotonic() - last_sweep >= self.limits.sweep_interval:
                last_sweep = time.monotonic()
                try:
                    deleted = await self.in_store(self.store.sweep, time.time())
                    if deleted:
                        log.info("retention sweep deleted %d envelopes", deleted)
                except Exception:
                    log.exception("retention sweep failed")
            self.notify(self.rendezvous.expire(time.monotonic()))
            await asyncio.sleep(min(self.limits.sweep_interval, 60.0))
