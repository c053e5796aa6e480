"""RelayClient: a node's one long-lived WebSocket connection to one relay, reconnecting with backoff.

Requests (put, get, TURN) carry a request id and wait for the answer with that id; what the
relay sends unasked (PEERS, DELIVER, notices) goes to the listeners (`RelayRoute`). Frames are
sent in order by one writer task per connection. On every (re)connect the current tokens are
subscribed again and the `on_connected` callbacks run; requests in flight when the connection
drops fail with `RelayUnavailable` (a put that failed may or may not be stored: putting it again
is harmless, duplicates are stored once).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp

from p2p.aio import async_cancel, wait_set
from p2p.ice_plan import with_stun
from p2p.relay.config import RelayTimings
from p2p.relay.errors import RelayError, RelayQuotaError, RelayUnavailable
from p2p.relay.parse import parse_relay_url
from p2p.relay.wire import (
    AUTH_SIZE,
    MAX_FRAME,
    MAX_ITEMS,
    TOKEN_SIZE,
    Frame,
    Kind,
    WireError,
    decode,
    encode,
    read_u32,
    read_u64,
    u32,
    u64,
)
from p2p.routes import IceServer

log = logging.getLogger(__name__)

QUOTA_CODES = ("quota", "rate", "limit", "size")
SEAL_KEY_SIZE = 32


class RelayListener(Protocol):
    """What a relay route hears from its client (all called on the event loop)."""

    def relay_peers(self, token: bytes, mine: bytes, others: tuple[bytes, ...]) -> None: ...
    def relay_deliver(self, token: bytes, sender: bytes, payload: bytes) -> None: ...
    def relay_tokens(self, tokens: set[bytes]) -> None: ...
    def relay_down(self) -> None: ...


class RelayClient:
    """One node's connection to one relay: rendezvous tokens, forwarded signaling, mailbox and TURN.

    Every request raises `RelayUnavailable` when there is no connection (it waits up to
    `timings.connect_timeout` for one first), `RelayQuotaError` when the relay refused it for a
    limit, and `RelayError` for any other refusal; each message is one sentence.
    """

    def __init__(self, url: str, *, timings: RelayTimings | None = None) -> None:
        """`url` is a relay address (`RelayError` if it is not one); nothing connects before `async_start`."""
        self.address = parse_relay_url(url)
        self.url: str = self.address.url
        """The canonical relay address."""
        self.timings = timings or RelayTimings()
        self.last_error = "not started"
        """Why the connection is down (one sentence), or "" while connected."""
        self.max_frame = MAX_FRAME
        self.max_batch = MAX_ITEMS
        self.has_turn = False
        self.notices: list[str] = []
        """The relay's latest unasked ERROR sentences (a refused token, ...), the last 16."""
        self.connects = 0
        self._tokens: dict[bytes, bytes] = {}
        self._listeners: list[RelayListener] = []
        self._on_connected: list[Callable[[], None]] = []
        self._pending: dict[int, asyncio.Future[Frame]] = {}
        self._rid = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._outbox: asyncio.Queue[bytes | None] | None = None
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._turn_cache: tuple[float, list[IceServer]] | None = None

    @property
    def connected(self) -> bool:
        """True while the WebSocket to the relay is open."""
        return self._up.is_set()

    async def async_start(self) -> None:
        """Start connecting; returns at once and keeps reconnecting with backoff until `async_stop`."""
        if self._task is None:
            self._session = aiohttp.ClientSession()
            self._task = asyncio.ensure_future(self._async_run())

    async def async_stop(self) -> None:
        """Close the connection and stop reconnecting; never raises."""
        task, self._task = self._task, None
        if task is not None:
            await async_cancel(task)
        if self._ws is not None:
            try:
                await self._ws.close()
            except Exception:
                pass
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._went_down("stopped")

    async def async_wait_connected(self, timeout: float) -> None:
        """Wait until connected; `RelayUnavailable` after `timeout` seconds."""
        if self._up.is_set():
            return
        if not await wait_set(self._up, timeout):
            raise RelayUnavailable(f"the relay {self.url} is not reachable: {self.last_error}")

    def on_connected(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after every connect and reconnect (pull the mailbox, push what is unacked)."""
        self._on_connected.append(callback)

    def add_listener(self, listener: RelayListener) -> Callable[[], None]:
        """Hear rendezvous news and forwarded payloads (the route); returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def async_turn_servers(self) -> list[IceServer]:
        """STUN, then TURN servers with fresh credentials from the relay (UDP, TCP, TLS); [] without TURN.

        The STUN entry is the first `turn:` server's host and port (coturn answers STUN binding
        requests on its listening port without credentials), so ICE can find a server-reflexive,
        direct pair before it falls back to a relayed one. Credentials are reused until three
        quarters of their lifetime has passed.
        """
        cached = self._turn_cache
        if cached is not None and time.monotonic() < cached[0]:
            return list(cached[1])
        reply = await self._async_request(Kind.TURN)
        username, password, ttl, urls = reply.fields
        lifetime = read_u32(ttl)
        if not urls or lifetime == 0:
            return []
        try:
            servers = [IceServer(url, username.decode("ascii"), password.decode("ascii"))
                       for url in urls.decode("ascii").split("\n") if url]
        except UnicodeDecodeError:
            raise RelayError("the relay sent TURN credentials that are not text") from None
        servers = with_stun(servers)
        self._turn_cache = (time.monotonic() + 0.75 * lifetime, servers)
        return list(servers)

    async def async_put(self, auth: bytes, envelopes: list[bytes]) -> list[int]:
        """Store `envelopes` in the mailbox named by `auth` (32 bytes); returns their sequence numbers.

        Returns only after the relay's fsync; a duplicate envelope gets its earlier number. Big
        batches are split into several acknowledged requests, in order.
        """
        _check_auth(auth)
        seqs: list[int] = []
        for batch in self._batches(envelopes):
            reply = await self._async_request(Kind.PUT, auth, items=batch)
            if reply.kind is not Kind.STORED or len(reply.items) != len(batch):
                raise RelayError("the relay answered a put with something else")
            seqs += [read_u64(item) for item in reply.items]
        return seqs

    async def async_get(self, auth: bytes, after: int, limit: int = 500) -> tuple[list[tuple[int, bytes]], int]:
        """Envelopes of the mailbox `auth` with sequence numbers above `after` (at most `limit`, oldest
        first), and the mailbox's last sequence number (0 when empty)."""
        _check_auth(auth)
        out: list[tuple[int, bytes]] = []
        last = 0
        cursor = after
        while len(out) < limit:
            reply = await self._async_request(Kind.GET, auth, u64(cursor), u32(min(limit - len(out), self.max_batch)))
            if reply.kind is not Kind.ENVELOPES:
                raise RelayError("the relay answered a get with something else")
            last = read_u64(reply.fields[0])
            got = [(read_u64(item[:8]), item[8:]) for item in reply.items]
            if any(seq <= cursor for seq, _ in got) or any(a >= b for (a, _), (b, _) in zip(got, got[1:])):
                raise RelayError("the relay answered a get out of order")
            out += got
            if not got or got[-1][0] >= last:
                break
            cursor = got[-1][0]
        return out, last

    def subscribe(self, tokens: dict[bytes, bytes]) -> None:
        """Meet peers under exactly these rendezvous tokens (16 bytes) -> seal keys (32 bytes).

        Replaces the previous set; sent at once when connected, again after every reconnect and
        every `timings.resubscribe_interval`.
        """
        for token, key in tokens.items():
            if len(token) != TOKEN_SIZE or len(key) != SEAL_KEY_SIZE:
                raise ValueError("a rendezvous token is 16 bytes and its seal key 32")
        self._tokens = dict(tokens)
        for listener in list(self._listeners):
            listener.relay_tokens(set(self._tokens))
        self._send_subscribe()

    def seal_key(self, token: bytes) -> bytes | None:
        """The seal key of a subscribed token."""
        return self._tokens.get(token)

    def forward(self, token: bytes, handle: bytes, payload: bytes) -> bool:
        """Queue a sealed payload for the peer at `handle` under `token`; False when not connected."""
        if not self.connected or self._outbox is None:
            return False
        self._outbox.put_nowait(encode(Kind.FORWARD, 0, token, handle, payload))
        return True

    # -- internals -----------------------------------------------------------------------------
    def _batches(self, envelopes: list[bytes]) -> list[list[bytes]]:
        budget = self.max_frame - 4096
        batches: list[list[bytes]] = [[]]
        size = 0
        for envelope in envelopes:
            if batches[-1] and (size + len(envelope) + 4 > budget or len(batches[-1]) >= self.max_batch):
                batches.append([])
                size = 0
            batches[-1].append(envelope)
            size += len(envelope) + 4
        return [b for b in batches if b]

    def _send_subscribe(self) -> None:
        if self.connected and self._outbox is not None:
            self._outbox.put_nowait(encode(Kind.SUBSCRIBE, self._next_rid(), items=list(self._tokens)[:MAX_ITEMS]))

    def _next_rid(self) -> int:
        self._rid = self._rid % 0xFFFFFFFF + 1
        return self._rid

    async def _async_request(self, kind: Kind, *fields: bytes, items: list[bytes] = []) -> Frame:  # noqa: B006
        await self.async_wait_connected(self.timings.connect_timeout)
        rid = self._next_rid()
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            assert self._outbox is not None
            self._outbox.put_nowait(encode(kind, rid, *fields, items=items))
            reply = await asyncio.wait_for(future, self.timings.request_timeout)
        except asyncio.TimeoutError:
            raise RelayUnavailable(f"the relay {self.url} did not answer in time") from None
        finally:
            self._pending.pop(rid, None)
        if reply.kind is Kind.ERROR:
            code = reply.fields[0].decode("ascii", errors="replace")
            sentence = reply.fields[1].decode("utf-8", errors="replace") or "the relay refused the request"
            raise (RelayQuotaError if code in QUOTA_CODES else RelayError)(f"The relay refused: {sentence}.")
        return reply

    async def _async_run(self) -> None:
        delay = self.timings.backoff_initial
        while True:
            started = time.monotonic()
            await self._async_connect_once()
            if time.monotonic() - started > 10 * self.timings.backoff_initial + 1.0:
                delay = self.timings.backoff_initial
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.timings.backoff_max)

    async def _async_connect_once(self) -> None:
        assert self._session is not None
        try:
            ws = await self._session.ws_connect(
                self.address.ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                heartbeat=self.timings.heartbeat, max_msg_size=MAX_FRAME, compress=0, autoping=True)
        except aiohttp.WSServerHandshakeError as exc:
            self.last_error = (f"the relay refused the connection ({exc.message or exc.status})"
                               if exc.status == 429 else f"the relay answered HTTP {exc.status}")
            return
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            self.last_error = f"cannot reach it ({type(exc).__name__})"
            return
        self._ws = ws
        try:
            await self._async_session(ws)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ConnectionError) as exc:
            self.last_error = f"the connection was lost ({type(exc).__name__})"
        finally:
            self._ws = None
            self._went_down(self.last_error or "the connection was lost")
            await ws.close()

    async def _async_session(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        first = await asyncio.wait_for(ws.receive(), self.timings.connect_timeout)
        welcome = self._parse(first)
        if welcome is None or welcome.kind is not Kind.WELCOME:
            self.last_error = "it does not speak the Hubbub relay protocol"
            return
        self.max_frame = min(MAX_FRAME, read_u32(welcome.fields[0]))
        self.max_batch = max(1, min(MAX_ITEMS, read_u32(welcome.fields[1])))
        self.has_turn = welcome.fields[2] == b"\x01"
        outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._outbox = outbox
        writer = asyncio.ensure_future(self._async_write(ws, outbox))
        resubscribe = asyncio.ensure_future(self._async_resubscribe())
        self.last_error = ""
        self.connects += 1
        self._up.set()
        self._send_subscribe()
        for callback in list(self._on_connected):
            try:
                callback()
            except Exception:
                log.exception("an on_connected callback failed")
        try:
            async for msg in ws:
                frame = self._parse(msg)
                if frame is not None:
                    self._dispatch(frame)
            self.last_error = "the relay closed the connection"
        finally:
            writer.cancel()
            resubscribe.cancel()

    def _parse(self, msg: aiohttp.WSMessage) -> Frame | None:
        if msg.type is not aiohttp.WSMsgType.BINARY:
            return None
        try:
            return decode(msg.data)
        except WireError as exc:
            log.debug("relay %s sent a malformed frame: %s", self.url, exc)
            return None

    def _dispatch(self, frame: Frame) -> None:
        if frame.request and frame.request in self._pending:
            future = self._pending.pop(frame.request)
            if not future.done():
                future.set_result(frame)
            return
        try:
            if frame.kind is Kind.PEERS:
                token, mine = frame.fields
                if token in self._tokens:
                    for listener in list(self._listeners):
                        listener.relay_peers(token, mine, frame.items)
            elif frame.kind is Kind.DELIVER:
                token, sender, payload = frame.fields
                if token in self._tokens:
                    for listener in list(self._listeners):
                        listener.relay_deliver(token, sender, payload)
            elif frame.kind is Kind.ERROR:
                sentence = frame.fields[1].decode("utf-8", errors="replace")
                self.notices = (self.notices + [sentence])[-16:]
                log.info("relay %s: %s", self.url, sentence)
        except Exception:  # a listener's bug must not end the connection
            log.exception("a relay listener failed")

    async def _async_write(self, ws: aiohttp.ClientWebSocketResponse, outbox: asyncio.Queue[bytes | None]) -> None:
        try:
            while (frame := await outbox.get()) is not None:
                await ws.send_bytes(frame)
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            await ws.close()

    async def _async_resubscribe(self) -> None:
        while True:
            await asyncio.sleep(self.timings.resubscribe_interval)
            self._send_subscribe()

    def _went_down(self, reason: str) -> None:
        was_up = self._up.is_set()
        self._up.clear()
        self._outbox = None
        self.last_error = reason
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RelayUnavailable(f"the connection to the relay {self.url} was lost"))
        self._pending.clear()
        if was_up:
            for listener in list(self._listeners):
                listener.relay_down()

    def stats(self) -> dict[str, Any]:
        return {"connected": self.connected, "connects": self.connects, "tokens": len(self._tokens)}


def _check_auth(auth: bytes) -> None:
    if len(auth) != AUTH_SIZE:
        raise ValueError(f"a mailbox auth is {AUTH_SIZE} bytes")
