"""A byte stream to a peer, however it can be made: `PeerStreams.async_open(peer)`.

The two ends agree on the stream inside their authenticated session (the `files` data channel): each sends an
ephemeral X25519 key signed by its identity key (`p2p/stream_frames.py`), and the holder says where it listens.
The client then dials a direct TCP connection keyed from that exchange (`p2p/secure_tcp.py`: secretstream,
about 40 times the data channel's speed on a LAN); if no address answers within a second or two (across NATs,
through TURN), the stream is carried on the data channel itself (`p2p/dc_stream.py`). The caller gets a
`ByteStream` either way and cannot tell which, except through its `route`.

The TCP listener is a listening socket on the node's bind address (the network rule applies to it as to the
signaling endpoint).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import nacl.signing
from nacl.bindings import crypto_kx_client_session_keys, crypto_kx_keypair, crypto_kx_server_session_keys
from nacl.exceptions import BadSignatureError

from p2p.byte_stream import ByteStream, StreamError
from p2p.dc_stream import DataChannelStream
from p2p.discovery import lan_addresses
from p2p.errors import P2PError
from p2p.secure_tcp import MAX_SEALED, SecureTcpStream, async_dial, async_read_opening
from p2p.tcp_pipe import MessagePipe, async_listen
from p2p.stream_frames import (
    MAX_ADDRS,
    Accept,
    Close,
    Credit,
    Data,
    Fallback,
    Open,
    Refuse,
    StreamFrame,
    StreamFrameError,
    accept_transcript,
    decode,
    encode,
    open_transcript,
)

log = logging.getLogger(__name__)

CHANNEL = "files"
ACCEPT_TIMEOUT = 5.0
DIAL_TIMEOUT = 1.5
EXPECT_SECONDS = 15.0
MAX_STREAMS_PER_PEER = 8
MAX_UNAUTHENTICATED = 32


class Carrier(Protocol):
    """What PeerStreams needs of the node: its identity, its bind address, and the files channel."""

    identity: nacl.signing.SigningKey
    public_key: bytes
    bind_host: str

    def send(self, peer: bytes, channel: str, room_id: bytes | None, payload: bytes) -> None: ...
    def buffered_amount(self, peer: bytes, channel: str) -> int: ...
    def session(self, peer: bytes) -> Any: ...


@dataclass
class _Expected:
    """A stream the holder accepted, waiting for the client's TCP connection or its FALLBACK."""

    peer: bytes
    tx: bytes
    rx: bytes
    deadline: float


class PeerStreams:
    """Opens byte streams to peers and accepts theirs (handed to `on_stream`)."""

    def __init__(self, node: Carrier, on_stream: Callable[[ByteStream], None], *, tcp: bool = True,
                 dial_timeout: float = DIAL_TIMEOUT) -> None:
        self.node = node
        self.on_stream = on_stream
        self.tcp = tcp
        self.dial_timeout = dial_timeout
        self._server: asyncio.Server | None = None
        self._opening: dict[bytes, tuple[bytes, asyncio.Future[Accept]]] = {}
        self._expected: dict[bytes, _Expected] = {}
        self._dc: dict[bytes, DataChannelStream] = {}
        self._unauthenticated = 0
        self._inbound: set[asyncio.Task[None]] = set()
        self.invalid: Callable[[bytes, str], None] = lambda peer, reason: None
        """Called with (peer, reason) when a peer sends stream messages that break the rules."""

    # ----- lifecycle -------------------------------------------------------------------------

    async def async_start(self) -> None:
        if self.tcp and self._server is None:
            self._server = await async_listen(self.node.bind_host, MAX_SEALED, self._on_pipe)

    async def async_stop(self) -> None:
        for stream in list(self._dc.values()):
            stream.close("node stopping")
        for _peer, fut in self._opening.values():
            if not fut.done():
                fut.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return 0
        return int(self._server.sockets[0].getsockname()[1])

    def addresses(self) -> tuple[str, ...]:
        """Where the holder tells clients to dial."""
        host = self.node.bind_host
        found = lan_addresses() if host in ("0.0.0.0", "", "::") else [host]
        return tuple(found[:MAX_ADDRS])

    def peer_gone(self, peer: bytes) -> None:
        """The session with `peer` ended: its data-channel streams end with it."""
        for stream in [s for s in self._dc.values() if s.peer == peer]:
            stream.close("the session ended")
        for sid, (who, fut) in list(self._opening.items()):
            if who == peer and not fut.done():
                fut.set_exception(StreamError("the session ended"))
                self._opening.pop(sid, None)

    # ----- opening -----------------------------------------------------------------------------

    async def async_open(self, peer: bytes, *, force_datachannel: bool = False) -> ByteStream:
        """A stream to `peer` (direct TCP if it can be made, else the data channel); StreamError if neither."""
        sid = os.urandom(16)
        eph_pk, eph_sk = crypto_kx_keypair()
        sig = self.node.identity.sign(open_transcript(self.node.public_key, peer, sid, eph_pk)).signature
        fut: asyncio.Future[Accept] = asyncio.get_running_loop().create_future()
        self._opening[sid] = (peer, fut)
        try:
            self._put(peer, Open(sid, eph_pk, sig))
            accept = await asyncio.wait_for(fut, ACCEPT_TIMEOUT)
        except asyncio.TimeoutError:
            raise StreamError("the peer did not answer the stream request") from None
        finally:
            self._opening.pop(sid, None)
        rx, tx = crypto_kx_client_session_keys(eph_pk, eph_sk, accept.eph)
        if self.tcp and accept.port and not force_datachannel:
            for host in self._candidates(peer, accept.addrs):
                try:
                    return await async_dial(host, accept.port, peer, sid, tx, rx, self.dial_timeout)
                except StreamError as exc:
                    log.info("direct stream to %s at %s failed: %s", peer.hex()[:12], host, exc)
        stream = self._new_dc(peer, sid)
        try:
            self._put(peer, Fallback(sid))
        except StreamError:
            stream.close()
            raise
        return stream

    def _candidates(self, peer: bytes, addrs: tuple[str, ...]) -> list[str]:
        """The holder's addresses, the one ICE already reaches it at first."""
        seen = _ice_remote_host(self.node.session(peer))
        ordered = ([seen] if seen in addrs else []) + [a for a in addrs if a != seen]
        return ordered[:3]

    def _put(self, peer: bytes, frame: StreamFrame) -> None:
        try:
            self.node.send(peer, CHANNEL, None, encode(frame))
        except (P2PError, ValueError) as exc:
            raise StreamError(f"cannot reach the peer ({exc})") from None

    def _new_dc(self, peer: bytes, sid: bytes) -> DataChannelStream:
        stream = DataChannelStream(peer, sid, lambda data: self.node.send(peer, CHANNEL, None, data),
                                   lambda: self.node.buffered_amount(peer, CHANNEL),
                                   on_closed=self._forget_dc)
        self._dc[sid] = stream
        return stream

    def _forget_dc(self, sid: bytes) -> None:
        self._dc.pop(sid, None)

    # ----- what arrives on the files channel --------------------------------------------------

    def on_message(self, peer: bytes, payload: bytes) -> None:
        try:
            frame = decode(payload)
        except StreamFrameError as exc:
            self.invalid(peer, str(exc))
            return
        if isinstance(frame, Data):
            stream = self._dc.get(frame.sid)
            if stream is None or stream.peer != peer:
                return  # a stream that just ended
            if not stream.on_data(frame):
                self.invalid(peer, "overran a stream's window")
        elif isinstance(frame, Credit):
            stream = self._dc.get(frame.sid)
            if stream is not None and stream.peer == peer:
                stream.on_credit(frame)
        elif isinstance(frame, Close):
            stream = self._dc.get(frame.sid)
            if stream is not None and stream.peer == peer:
                stream.on_close(frame)
        elif isinstance(frame, Open):
            self._on_open(peer, frame)
        elif isinstance(frame, (Accept, Refuse)):
            self._on_answer(peer, frame)
        elif isinstance(frame, Fallback):
            expected = self._expected.pop(frame.sid, None)
            if expected is not None and expected.peer == peer:
                self.on_stream(self._new_dc(peer, frame.sid))

    def _on_open(self, peer: bytes, frame: Open) -> None:
        try:
            nacl.signing.VerifyKey(peer).verify(open_transcript(peer, self.node.public_key, frame.sid, frame.eph),
                                                frame.sig)
        except (BadSignatureError, ValueError):
            self.invalid(peer, "a stream request with a bad signature")
            return
        now = time.monotonic()
        for sid in [s for s, e in self._expected.items() if e.deadline < now]:
            del self._expected[sid]
        mine = sum(1 for s in self._dc.values() if s.peer == peer) + sum(
            1 for e in self._expected.values() if e.peer == peer)
        if mine >= MAX_STREAMS_PER_PEER:
            with contextlib.suppress(StreamError):
                self._put(peer, Refuse(frame.sid, "too many streams"))
            return
        eph_pk, eph_sk = crypto_kx_keypair()
        rx, tx = crypto_kx_server_session_keys(eph_pk, eph_sk, frame.eph)
        port = self.port if self.tcp else 0
        addrs = self.addresses() if port else ()
        sig = self.node.identity.sign(accept_transcript(self.node.public_key, peer, frame.sid, eph_pk, port,
                                                        addrs)).signature
        self._expected[frame.sid] = _Expected(peer, tx, rx, now + EXPECT_SECONDS)
        with contextlib.suppress(StreamError):
            self._put(peer, Accept(frame.sid, eph_pk, port, addrs, sig))

    def _on_answer(self, peer: bytes, frame: Accept | Refuse) -> None:
        pending = self._opening.get(frame.sid)
        if pending is None or pending[0] != peer or pending[1].done():
            return
        fut = pending[1]
        if isinstance(frame, Refuse):
            fut.set_exception(StreamError(f"the peer refused the stream: {frame.reason}"))
            return
        try:
            nacl.signing.VerifyKey(peer).verify(
                accept_transcript(peer, self.node.public_key, frame.sid, frame.eph, frame.port, frame.addrs), frame.sig)
        except (BadSignatureError, ValueError):
            self.invalid(peer, "a stream answer with a bad signature")
            fut.set_exception(StreamError("the peer's stream answer has a bad signature"))
            return
        fut.set_result(frame)

    # ----- inbound TCP ------------------------------------------------------------------------

    def _on_pipe(self, pipe: MessagePipe) -> None:
        task = asyncio.ensure_future(self._async_inbound(pipe))
        self._inbound.add(task)
        task.add_done_callback(self._inbound.discard)

    async def _async_inbound(self, pipe: MessagePipe) -> None:
        if self._unauthenticated >= MAX_UNAUTHENTICATED:
            pipe.close()
            return
        self._unauthenticated += 1
        try:
            try:
                sid, header = await async_read_opening(pipe, 5.0)
            except (asyncio.TimeoutError, OSError):
                pipe.close()
                return
            expected = self._expected.pop(sid, None)
            if expected is None or expected.deadline < time.monotonic():
                pipe.close()
                return
            stream = SecureTcpStream(expected.peer, pipe, expected.tx, expected.rx)
            try:
                await pipe.write(stream.header)
                stream.start_pull(header)
                await stream.async_hello(5.0)
            except (StreamError, OSError) as exc:
                log.info("a direct stream from %s did not start: %s", expected.peer.hex()[:12], exc)
                stream.close()
                return
        finally:
            self._unauthenticated -= 1
        self.on_stream(stream)


def _ice_remote_host(session: Any) -> str | None:
    """The address ICE reaches the peer at, if aiortc says (its internals: None when they moved)."""
    try:
        pair = session.pc.sctp.transport.transport._connection._nominated.get(1)
        host = pair.remote_candidate.host
        return host if isinstance(host, str) else None
    except Exception:
        return None
