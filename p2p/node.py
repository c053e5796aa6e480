"""PeerNode: the p2p layer the app uses: endpoint, discovery, dialing, sessions, bans and events.

The app hands it an identity key, the room secrets to match and the public rooms to announce; it
gets back events (`p2p.events`) on `events` (an asyncio.Queue) and through `add_listener`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import nacl.signing
from zeroconf import InterfaceChoice
from zeroconf._utils.net import InterfacesType

from p2p.config import Timings
from p2p.control import ControlEvent, Matched, Role, Unmatched
from p2p.discovery import Discovery, PeerHint, lan_addresses
from p2p.errors import (
    BannedError,
    FrameError,
    NotConnectedError,
    NotSharedError,
    P2PError,
    SignalingError,
)
from p2p.events import (
    PeerBanned,
    PeerConnected,
    PeerDisconnected,
    PeerEvent,
    Received,
    RoomMatched,
    RoomUnmatched,
)
from p2p.frames import KEY_SIZE, SESSION_ID_SIZE, FrameType, encode_frame, exact_size, expect
from p2p.peer_score import PeerScore
from p2p.rooms import PublicRoom, PublicRoomSeen, RoomSecret
from p2p.session import APP_CHANNELS, Session
from p2p.signal_message import sign_signal, verify_signal
from p2p.signaling import async_close_writer, async_read_frame, reject_frame, write_frame

log = logging.getLogger(__name__)

Listener = Callable[[PeerEvent], None]


@dataclass
class _Target:
    """An address this node keeps a session with, redialing with backoff when it drops."""

    host: str
    port: int
    peer_key: bytes | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class PeerNode:
    """A running peer: signaling endpoint, optional mDNS, and authenticated sessions by public key."""

    def __init__(
        self,
        identity: nacl.signing.SigningKey,
        *,
        bind_host: str = "0.0.0.0",
        port: int = 0,
        mdns: bool = True,
        timings: Timings | None = None,
        mdns_interfaces: InterfacesType = InterfaceChoice.All,
        queue_events: bool = True,
    ) -> None:
        """`queue_events=False`: events go only to listeners (`add_listener`), not to `events`,
        for an app that handles them as they happen and would otherwise have to drain the queue."""
        self.identity = identity
        self._queue_events = queue_events
        self.public_key = bytes(identity.verify_key)
        self.node_id = os.urandom(8).hex()
        """Random per start; what mDNS announces instead of the identity key."""
        self.bind_host = bind_host
        self.timings = timings or Timings()
        self.events: asyncio.Queue[PeerEvent] = asyncio.Queue()
        self._port = port
        self._mdns = mdns
        self._mdns_interfaces = mdns_interfaces
        self._listeners: list[Listener] = []
        self._sessions: dict[bytes, Session] = {}
        self._pending: set[Session] = set()
        self._dialing: dict[bytes, int] = {}
        self._targets: dict[str, _Target] = {}
        self._secrets: list[RoomSecret] = []
        self._secret_rooms: frozenset[bytes] = frozenset()
        self._public_rooms: list[PublicRoom] = []
        self._score = PeerScore(
            limit=self.timings.malformed_limit,
            window=self.timings.malformed_window,
            ban_seconds=self.timings.ban_seconds,
        )
        self._server: asyncio.Server | None = None
        self._discovery: Discovery | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.malformed_signaling = 0
        """Malformed or forged signaling attempts seen on the endpoint (not tied to a key)."""

    # -- lifecycle -----------------------------------------------------------------------------
    async def async_start(self) -> None:
        """Open the signaling endpoint and, if enabled, announce and browse on mDNS."""
        self._stopping = False
        self._server = await asyncio.start_server(self._handle_signaling, self.bind_host, self._port)
        if self._mdns:
            host = self.bind_host
            addresses = lan_addresses() if host in ("0.0.0.0", "") else [host]
            self._discovery = Discovery(
                node_id=self.node_id,
                port=self.address[1],
                addresses=addresses,
                on_found=self._on_peer_found,
                on_lost=self._on_peer_lost,
                interfaces=self._mdns_interfaces,
                request_timeout=self.timings.mdns_request_timeout,
            )
            await self._discovery.async_start()
            if self._public_rooms:
                await self._discovery.async_set_public_rooms(self._public_rooms)

    async def async_stop(self) -> None:
        """Say goodbye to every peer, withdraw announcements and close the endpoint."""
        self._stopping = True
        for target in self._targets.values():
            if target.task is not None:
                target.task.cancel()
        self._targets.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._discovery is not None:
            await self._discovery.async_stop()
            self._discovery = None
        if self._server is not None:
            self._server.close()
        sessions = list(self._sessions.values()) + list(self._pending)
        await asyncio.gather(*(s.async_close("node stopping") for s in sessions))
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            except asyncio.TimeoutError:
                pass
            self._server = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of the signaling endpoint."""
        if self._server is None or not self._server.sockets:
            raise NotConnectedError("node is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    # -- app API -------------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` for every event (as well as queueing it); returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def set_secrets(self, secrets: list[RoomSecret]) -> None:
        """Replace the room secrets and re-run room matching on every live session."""
        self._secrets = list(secrets)
        self._secret_rooms = frozenset(s.room_id for s in secrets)
        for session in list(self._sessions.values()) + list(self._pending):
            session.set_secrets(self._secrets)

    def set_public_rooms(self, rooms: list[PublicRoom]) -> None:
        """Announce exactly these rooms on mDNS (withdrawing the others)."""
        self._public_rooms = list(rooms)
        if self._discovery is not None:
            self._spawn(self._discovery.async_set_public_rooms(self._public_rooms))

    def public_rooms(self) -> list[PublicRoomSeen]:
        """Public rooms other nodes announce on the LAN."""
        return [] if self._discovery is None else self._discovery.public_rooms()

    def lan_peers(self) -> list[PeerHint]:
        """Nodes seen on mDNS right now (unauthenticated hints: node id, host, port)."""
        return [] if self._discovery is None else self._discovery.peers()

    async def async_connect(self, host: str, port: int) -> bytes:
        """Dial a signaling endpoint, authenticate, and return the peer's public key.

        The address is remembered: if the session drops, the node redials it with backoff.
        """
        peer = await self._async_dial(host, port)
        key = f"addr:{host}:{port}"
        if key not in self._targets:
            self._add_target(key, _Target(host, port, peer))
        return peer

    def send(self, peer: bytes, channel: str, room_id: bytes | None, payload: bytes) -> None:
        """Send `payload` to `peer` on `channel`; `room_id` must be a room shared with that peer."""
        if channel not in APP_CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; use one of {APP_CHANNELS}")
        session = self._sessions.get(peer)
        if session is None or not session.is_authenticated:
            raise NotConnectedError("no authenticated session with that peer")
        if room_id is not None and room_id not in session.shared_room_ids():
            raise NotSharedError("that peer has not proven it holds that room")
        session.send(channel, room_id, payload)

    def buffered_amount(self, peer: bytes, channel: str) -> int:
        """Bytes queued but not yet sent to `peer` on `channel` (for back-pressure)."""
        session = self._sessions.get(peer)
        if session is None:
            raise NotConnectedError("no session with that peer")
        return session.buffered_amount(channel)

    def peers(self) -> list[bytes]:
        """Public keys of the peers with an authenticated session."""
        return [k for k, s in self._sessions.items() if s.is_authenticated]

    def shared_rooms(self, peer: bytes) -> set[bytes]:
        """Room ids `peer` proved it holds."""
        session = self._sessions.get(peer)
        return set() if session is None else session.shared_room_ids()

    def is_banned(self, peer: bytes) -> bool:
        return self._score.is_banned(peer, time.monotonic())

    def session(self, peer: bytes) -> Session | None:
        """The live session with `peer` (for tests and benchmarks)."""
        return self._sessions.get(peer)

    async def async_wait_for_peer(self, peer: bytes, timeout: float) -> None:
        """Wait until an authenticated session with `peer` exists; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while peer not in self.peers():
            if time.monotonic() > deadline:
                raise asyncio.TimeoutError
            await asyncio.sleep(0.02)

    # -- dialing ---------------------------------------------------------------------------------
    async def _async_dial(self, host: str, port: int) -> bytes:
        """One signaling exchange as the dialer, then wait for the session to authenticate."""
        timeout = self.timings.signal_timeout
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise SignalingError(f"cannot reach {host}:{port}: {exc}") from None
        session: Session | None = None
        peer = b""
        try:
            hello = expect(await async_read_frame(reader, timeout), FrameType.HELLO)
            peer = exact_size(hello.fields[0], KEY_SIZE, "hello key")
            if peer == self.public_key:
                raise SignalingError("dialed our own endpoint")
            if self.is_banned(peer):
                raise BannedError("that peer is banned")
            if peer in self.peers() or self._dialing.get(peer):
                await async_close_writer(writer)
                await self.async_wait_for_peer(peer, self.timings.handshake_timeout)
                return peer
            self._dialing[peer] = self._dialing.get(peer, 0) + 1
            session = self._new_session(Role.DIALER, peer)
            sdp = await session.async_create_offer()
            session_id = os.urandom(SESSION_ID_SIZE)
            write_frame(writer, sign_signal(self.identity, FrameType.OFFER, peer, session_id, sdp))
            await writer.drain()
            reply = await async_read_frame(reader, timeout)
            if reply.type is FrameType.REJECT:
                reason = reply.fields[0].decode("utf-8", errors="replace")
                if reason == "glare":
                    await session.async_close("glare")
                    session = None
                    await self.async_wait_for_peer(peer, self.timings.handshake_timeout)
                    return peer
                raise SignalingError(f"peer rejected the offer: {reason}")
            answer = verify_signal(reply, me=self.public_key)
            if answer.kind is not FrameType.ANSWER or answer.sender != peer:
                raise SignalingError("answer from an unexpected key")
            if answer.session_id != session_id:
                raise SignalingError("answer for another session")
            await session.async_accept_answer(answer.sdp, answer.fingerprint)
            await async_close_writer(writer)
            if not await session.async_wait_authenticated(self.timings.handshake_timeout):
                reason = session.close_reason or "timed out"
                raise SignalingError(f"session did not authenticate: {reason}")
            return peer
        except FrameError as exc:
            raise SignalingError(f"bad signaling from {host}:{port}: {exc}") from None
        except BaseException:
            if session is not None:
                await session.async_close("dial failed")
            raise
        finally:
            await async_close_writer(writer)
            if peer in self._dialing:
                self._dialing[peer] -= 1
                if not self._dialing[peer]:
                    del self._dialing[peer]

    def _add_target(self, key: str, target: _Target) -> None:
        self._targets[key] = target
        target.task = self._spawn(self._async_supervise(target))

    async def _async_supervise(self, target: _Target) -> None:
        """Keep a session with `target`: wait while it lives, redial with backoff when it drops."""
        t = self.timings
        delay = t.backoff_initial
        while not self._stopping:
            session = self._sessions.get(target.peer_key) if target.peer_key else None
            if session is not None:
                await session.closed.wait()
                await asyncio.sleep(_jitter(t.backoff_initial))
                delay = t.backoff_initial
                continue
            if target.peer_key is not None and self.is_banned(target.peer_key):
                await asyncio.sleep(self._score.ban_remaining(target.peer_key, time.monotonic()))
                continue
            try:
                target.peer_key = await self._async_dial(target.host, target.port)
                delay = t.backoff_initial
                continue
            except asyncio.CancelledError:
                raise
            except (P2PError, OSError, asyncio.TimeoutError) as exc:
                log.info("dial %s:%s failed: %s", target.host, target.port, exc)
            except Exception:
                log.exception("unexpected error dialing %s:%s", target.host, target.port)
            await asyncio.sleep(_jitter(delay))
            delay = min(delay * 2, t.backoff_max)

    def _on_peer_found(self, hint: PeerHint) -> None:
        if self._stopping:
            return
        key = f"mdns:{hint.node_id}"
        target = self._targets.get(key)
        if target is not None:
            target.host, target.port = hint.host, hint.port
            return
        if self.node_id < hint.node_id:  # only the smaller node id dials: no glare on the LAN
            self._add_target(key, _Target(hint.host, hint.port))

    def _on_peer_lost(self, node_id: str) -> None:
        target = self._targets.pop(f"mdns:{node_id}", None)
        if target is not None and target.task is not None:
            target.task.cancel()

    # -- listening -------------------------------------------------------------------------------
    async def _handle_signaling(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """One inbound signaling connection: HELLO, then a signed OFFER, then ANSWER or REJECT."""
        session: Session | None = None
        try:
            write_frame(writer, encode_frame(FrameType.HELLO, self.public_key))
            await writer.drain()
            frame = await async_read_frame(reader, self.timings.signal_timeout)
            offer = verify_signal(frame, me=self.public_key)
            peer = offer.sender
            if offer.kind is not FrameType.OFFER:
                raise SignalingError("expected an offer")
            if peer == self.public_key:
                raise SignalingError("offer signed with our own key")
            if self.is_banned(peer):
                raise SignalingError("banned")
            if self._dialing.get(peer) and self.public_key < peer:
                raise SignalingError("glare")
            session = self._new_session(Role.LISTENER, peer)
            sdp = await session.async_accept_offer(offer.sdp, offer.fingerprint)
            answer = sign_signal(self.identity, FrameType.ANSWER, peer, offer.session_id, sdp)
            write_frame(writer, answer)
            await writer.drain()
        except (FrameError, SignalingError) as exc:
            if isinstance(exc, FrameError) or "signature" in str(exc) or "fingerprint" in str(exc):
                self.malformed_signaling += 1
            log.info("rejected signaling from %s: %s", _peername(writer), exc)
            await self._async_reject(writer, str(exc) if isinstance(exc, SignalingError) else "malformed")
            if session is not None:
                await session.async_close("signaling failed")
        except (ConnectionError, OSError) as exc:
            log.info("signaling connection lost: %s", exc)
            if session is not None:
                await session.async_close("signaling failed")
        except Exception:
            log.exception("unexpected error on the signaling endpoint")
            if session is not None:
                await session.async_close("signaling failed")
        finally:
            await async_close_writer(writer)

    async def _async_reject(self, writer: asyncio.StreamWriter, reason: str) -> None:
        try:
            write_frame(writer, reject_frame(reason))
            await writer.drain()
        except (ConnectionError, OSError):
            pass

    # -- sessions (SessionOwner) -------------------------------------------------------------
    def _new_session(self, role: Role, peer: bytes) -> Session:
        session = Session(self.identity, role, peer, self._secrets, self, self.timings)
        self._pending.add(session)
        return session

    def session_authenticated(self, session: Session) -> None:
        self._pending.discard(session)
        peer = session.peer_key
        if self._stopping or self.is_banned(peer):
            session.close_soon("banned")
            return
        old = self._sessions.get(peer)
        self._sessions[peer] = session
        if old is not None and old is not session:
            self._emit(PeerDisconnected(peer, "replaced by a new session"))
            old.close_soon("replaced by a new session")
        self._emit(PeerConnected(peer))

    def session_control_event(self, session: Session, event: ControlEvent) -> None:
        if self._sessions.get(session.peer_key) is not session:
            return
        if isinstance(event, Matched):
            self._emit(RoomMatched(session.peer_key, event.room_id, event.my_label, event.their_label))
        elif isinstance(event, Unmatched):
            self._emit(
                RoomUnmatched(session.peer_key, event.room_id, event.my_label, event.their_label)
            )

    def session_data(
        self, session: Session, channel: str, room_id: bytes | None, payload: bytes
    ) -> None:
        if self._sessions.get(session.peer_key) is not session:
            return
        if room_id is not None and room_id not in self._secret_rooms:
            log.debug("dropping data for a room we do not hold")
            return
        self._emit(Received(session.peer_key, channel, room_id, payload))

    def session_malformed(self, session: Session, reason: str) -> None:
        peer = session.peer_key
        log.info("malformed input from %s: %s", peer.hex()[:16], reason)
        if self._score.record_malformed(peer, time.monotonic()):
            self._banned(peer, f"repeated malformed frames ({reason})")

    def report_invalid(self, peer: bytes, reason: str) -> None:
        """The app found data from `peer` invalid (a forged or rejected entry): count it like a malformed frame."""
        session = self._sessions.get(peer)
        if session is not None:
            self.session_malformed(session, reason)

    def session_auth_failed(self, session: Session, reason: str) -> None:
        self._score.ban(session.peer_key, time.monotonic(), reason)
        self._banned(session.peer_key, f"authentication failed: {reason}")

    def session_closed(self, session: Session, reason: str) -> None:
        self._pending.discard(session)
        peer = session.peer_key
        if self._sessions.get(peer) is session:
            del self._sessions[peer]
            self._emit(PeerDisconnected(peer, reason))

    def _banned(self, peer: bytes, reason: str) -> None:
        log.warning("banning peer %s: %s", peer.hex()[:16], reason)
        self._emit(PeerBanned(peer, reason))
        for session in [self._sessions.get(peer), *self._pending]:
            if session is not None and session.peer_key == peer:
                session.close_soon("banned")

    # -- plumbing ------------------------------------------------------------------------------
    def _emit(self, event: PeerEvent) -> None:
        if self._queue_events:
            self.events.put_nowait(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _jitter(delay: float) -> float:
    return delay * random.uniform(0.8, 1.2)


def _peername(writer: asyncio.StreamWriter) -> str:
    try:
        return str(writer.get_extra_info("peername"))
    except Exception:
        return "?"
