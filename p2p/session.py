"""A session: one aiortc RTCPeerConnection with a peer, its data channels and its control protocol.

The asyncio shell around `p2p.control.ControlProtocol`. All channels are negotiated with fixed ids,
so no in-band DATA_CHANNEL_OPEN round trip is needed:

=========  ==  ==================================================
channel    id  delivery
=========  ==  ==================================================
control     0  reliable, ordered: auth, room tokens, ping, bye
sync        1  reliable, ordered
live        2  reliable, ordered: typing, presence, calls
voice       3  unordered, maxRetransmits=0
files       4  reliable, ordered
=========  ==  ==================================================

Every message from the peer is handled inside a try block: a malformed frame is reported to the
owner (which counts it) and dropped; nothing from the wire propagates out of a callback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import nacl.signing
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from p2p.aio import wait_set
from p2p.aiortc_hooks import nominated_pair, send_handshake_twice, turn_allocation_lost
from p2p.config import Timings
from p2p.control import (
    Authenticated,
    ControlEvent,
    ControlProtocol,
    ControlState,
    PeerClosed,
    Pong,
    Role,
)
from p2p.errors import AuthError, FrameError, NotConnectedError
from p2p.frames import MAX_PAYLOAD_SIZE, FrameType, decode_frame, encode_frame, expect
from p2p.rooms import RoomSecret
from p2p.routes import IceServer, Route
from p2p.rtt import RttEstimator
from p2p.signal_message import sdp_fingerprint

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ChannelSpec:
    """How one negotiated data channel is opened."""

    id: int
    ordered: bool = True
    max_retransmits: int | None = None


CHANNELS: dict[str, ChannelSpec] = {
    "control": ChannelSpec(0),
    "sync": ChannelSpec(1),
    "live": ChannelSpec(2),
    "voice": ChannelSpec(3, ordered=False, max_retransmits=0),
    "files": ChannelSpec(4),
}
APP_CHANNELS: tuple[str, ...] = ("sync", "live", "voice", "files")
ICE_FAILURES = ("connection failed", "handshake timeout")
"""Close reasons of a session whose ICE (or DTLS) never got through: the node tries another attempt."""
TURN_LOST = "TURN allocation lost"
CLOSE_WAIT = 2.0
"""Longest a closing session waits for aiortc's teardown before it reports; the rest goes on in the background."""
_CLOSING: set[asyncio.Future[None]] = set()


def _closed(task: asyncio.Future[None]) -> None:
    _CLOSING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.debug("error closing peer connection: %s", task.exception())


class SessionOwner(Protocol):
    """What a session reports to (the PeerNode)."""

    def session_authenticated(self, session: Session) -> None: ...
    def session_control_event(self, session: Session, event: ControlEvent) -> None: ...
    def session_data(
        self, session: Session, channel: str, room_id: bytes | None, payload: bytes
    ) -> None: ...
    def session_malformed(self, session: Session, reason: str) -> None: ...
    def session_auth_failed(self, session: Session, reason: str) -> None: ...
    def session_closed(self, session: Session, reason: str) -> None: ...


class Session:
    """One peer connection; created by the dialer (offer) or the listener (answer).

    `ice_servers` is passed to aiortc as it is (an empty list means host candidates only).
    `route` is what the signaling path says the session is ("lan", "direct"); `Session.route`
    reports "turn" instead once ICE picked a relayed candidate. `rtt` is the smoothed round trip of
    the control channel's PING/PONG (one right after authentication, then every keepalive).

    The handshake watchdog closes a session that does not authenticate in `handshake_timeout`,
    unless it is `patient` and progressing: it then dies only after a whole timeout without a step
    (ICE up, DTLS up, the control channel open, a control frame), or after three timeouts in all. Under heavy loss
    DTLS alone can take seconds (OpenSSL's retransmission timer starts at 1 s and doubles).
    `handshake_timeout` and `patient` may be set right after construction (before the loop runs).
    """

    def __init__(
        self,
        identity: nacl.signing.SigningKey,
        role: Role,
        peer_key: bytes,
        secrets: list[RoomSecret],
        owner: SessionOwner,
        timings: Timings,
        *,
        ice_servers: Sequence[IceServer] = (),
        route: Route = "lan",
    ) -> None:
        self.identity = identity
        self.role = role
        self.peer_key = peer_key
        self.owner = owner
        self.timings = timings
        self.handshake_timeout = timings.handshake_timeout
        self.patient = True
        self._progress_at = time.monotonic()
        self._keepalive_started = False
        self._control_backlog: list[bytes] = []
        self.base_route: Route = route
        self.ice_servers = list(ice_servers)
        self.ice_attempt = 0
        """Which attempt of the node's `IcePlan` this session is (0: STUN + TURN over UDP)."""
        self.authenticated = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.last_seen = time.monotonic()
        self._secrets = list(secrets)
        self._control: ControlProtocol | None = None
        self._rtt = RttEstimator()
        self._tasks: set[asyncio.Task[None]] = set()
        servers = [RTCIceServer(s.urls, s.username, s.credential) for s in ice_servers]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.channels: dict[str, RTCDataChannel] = {}
        for name, spec in CHANNELS.items():
            channel = self.pc.createDataChannel(
                name,
                ordered=spec.ordered,
                maxRetransmits=spec.max_retransmits,
                negotiated=True,
                id=spec.id,
            )
            channel.on("message", self._message_handler(name))
            self.channels[name] = channel
        self.channels["control"].on("open", self._on_control_open)
        self.pc.on("connectionstatechange", self._on_connection_state)
        send_handshake_twice(self.pc)
        self.pc.on("iceconnectionstatechange", self._progress)
        self.pc.sctp.transport.on("statechange", self._progress)  # type: ignore[union-attr]  # DTLS
        self._spawn(self._async_watchdog())

    # -- signaling -----------------------------------------------------------------------------
    async def async_create_offer(self) -> str:
        """Create and apply the local offer; return its SDP (with candidates)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def async_accept_offer(self, sdp: str, remote_fingerprint: bytes) -> str:
        """Apply a verified remote offer; return the answer's SDP."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._make_control(remote_fingerprint)
        return self.pc.localDescription.sdp

    async def async_accept_answer(self, sdp: str, remote_fingerprint: bytes) -> None:
        """Apply a verified remote answer."""
        self._make_control(remote_fingerprint)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    def _make_control(self, remote_fingerprint: bytes) -> None:
        local_fingerprint = sdp_fingerprint(self.pc.localDescription.sdp)
        self._control = ControlProtocol(
            self.identity, self.role, self.peer_key, local_fingerprint, remote_fingerprint,
            self._secrets,
        )
        if self.channels["control"].readyState == "open":
            self._on_control_open()

    # -- application API -----------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return self.authenticated.is_set() and not self.closed.is_set()

    async def async_wait_authenticated(self, timeout: float) -> bool:
        """Wait until the session authenticates (True) or closes or times out (False)."""
        waits = [asyncio.ensure_future(self.authenticated.wait()),
                 asyncio.ensure_future(self.closed.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
        return self.is_authenticated

    @property
    def route(self) -> Route:
        """"lan", "direct" or "turn": how this session reaches its peer (display and metrics only)."""
        pair = nominated_pair(self.pc)
        try:
            if pair is not None and "relay" in (pair.local_candidate.type, pair.remote_candidate.type):
                return "turn"
        except AttributeError:  # aioice internals moved
            pass
        return self.base_route

    @property
    def rtt(self) -> float | None:
        """The round trip over the control channel in seconds (median of the last PING/PONGs); None before the first."""
        return self._rtt.rtt

    def shared_room_ids(self) -> set[bytes]:
        """Rooms the peer proved it holds a secret for."""
        if self._control is None:
            return set()
        return {room_id for room_id, _, _ in self._control.matches}

    def set_secrets(self, secrets: list[RoomSecret]) -> None:
        """Replace the secrets; re-runs room matching if the session is authenticated."""
        self._secrets = list(secrets)
        if self._control is not None and not self.closed.is_set():
            self._control.set_secrets(self._secrets)
            self._pump()

    def send(self, channel: str, room_id: bytes | None, payload: bytes) -> None:
        """Send one DATA frame on an application channel."""
        if len(payload) > MAX_PAYLOAD_SIZE:
            raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_SIZE}")
        self.send_raw(channel, encode_frame(FrameType.DATA, room_id or b"", payload))

    def send_raw(self, channel: str, data: bytes) -> None:
        """Send bytes as they are (tests and benchmarks use this to play a hostile peer)."""
        dc = self.channels[channel]
        if dc.readyState != "open" or self.closed.is_set():
            raise NotConnectedError(f"channel {channel} is {dc.readyState}")
        dc.send(data)

    def buffered_amount(self, channel: str) -> int:
        return self.channels[channel].bufferedAmount

    async def async_close(self, reason: str) -> None:
        """Say goodbye (best effort), close the peer connection, and report once."""
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        if self._control is not None and self._control.state is not ControlState.CLOSED:
            self._control.close(reason)
            self._flush()
            await asyncio.sleep(0.02)  # let SCTP put the BYE on the wire
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        closing = asyncio.ensure_future(self.pc.close())
        _CLOSING.add(closing)
        closing.add_done_callback(_closed)
        try:
            await asyncio.wait_for(asyncio.shield(closing), CLOSE_WAIT)
        except asyncio.TimeoutError:  # e.g. deleting an allocation on a dead TURN server: ~40 s of retries
            log.debug("peer connection still closing after %.0f s; reporting the session closed", CLOSE_WAIT)
        except Exception:  # aiortc teardown errors must not escape
            log.debug("error closing peer connection", exc_info=True)
        self.owner.session_closed(self, reason)

    def close_soon(self, reason: str) -> None:
        """Schedule `async_close` from synchronous code."""
        if not self.closed.is_set():
            self._spawn(self.async_close(reason))

    # -- internals ---------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _progress(self) -> None:
        self._progress_at = time.monotonic()

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        if state in ("failed", "closed"):
            self.close_soon(f"connection {state}")

    def _on_control_open(self) -> None:
        self._progress()
        if self._control is None:
            return
        if self._control.state is ControlState.NEW:
            self._control.start()
        self._pump()  # also what waited for the channel to open
        if not self._keepalive_started:
            self._keepalive_started = True
            self._spawn(self._async_keepalive())

    def _message_handler(self, name: str) -> Callable[[object], None]:
        def handler(message: object) -> None:
            try:
                self._on_message(name, message)
            except Exception:  # the last line of defence: count it, never crash
                log.exception("unexpected error handling a %s message", name)
                self.owner.session_malformed(self, "unhandled input")

        return handler

    def _on_message(self, name: str, message: object) -> None:
        if self.closed.is_set():
            return
        self.last_seen = time.monotonic()
        if not isinstance(message, bytes):
            self.owner.session_malformed(self, f"text message on {name}")
            return
        if name == "control":
            self._on_control_message(message)
            return
        if not self.is_authenticated:
            self.owner.session_malformed(self, f"data on {name} before authentication")
            return
        try:
            frame = expect(decode_frame(message), FrameType.DATA)
        except FrameError as exc:
            self.owner.session_malformed(self, f"{name}: {exc}")
            return
        room_id, payload = frame.fields
        self.owner.session_data(self, name, room_id or None, payload)

    def _on_control_message(self, message: bytes) -> None:
        self._progress()
        if self._control is None:
            self.owner.session_malformed(self, "control message before signaling completed")
            return
        try:
            self._control.receive(message)
        except AuthError as exc:
            self.owner.session_auth_failed(self, str(exc))
            return
        except FrameError as exc:
            self.owner.session_malformed(self, f"control: {exc}")
        self._pump()

    def _flush(self) -> None:
        """Send the control protocol's frames in order; until the channel is open they wait (a
        peer's CHALLENGE can be delivered before our channel reports open, and our answer to it
        must not be lost)."""
        if self._control is None:
            return
        self._control_backlog.extend(self._control.data_to_send())
        while self._control_backlog:
            try:
                self.send_raw("control", self._control_backlog[0])
            except NotConnectedError:
                return
            self._control_backlog.pop(0)

    def _pump(self) -> None:
        """Send what the control protocol queued and hand its events to the owner."""
        self._flush()
        if self._control is None:
            return
        while (event := self._control.next_event()) is not None:
            if isinstance(event, Authenticated):
                self.authenticated.set()
                self.owner.session_authenticated(self)
                self._ping()  # a first round trip now, not a keepalive interval later
            elif isinstance(event, Pong):
                self._rtt.answered(event.opaque, time.monotonic())
            elif isinstance(event, PeerClosed):
                self.close_soon(f"peer left: {event.reason}")
            else:
                self.owner.session_control_event(self, event)

    async def _async_watchdog(self) -> None:
        start = time.monotonic()
        while not self.authenticated.is_set() and not self.closed.is_set():
            timeout = self.handshake_timeout
            deadline = start + timeout
            if self.patient:
                deadline = min(max(deadline, self._progress_at + timeout), start + 3 * timeout)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                await self.async_close("handshake timeout")
                return
            await wait_set(self.authenticated, remaining)

    def handshake_limit(self) -> float:
        """The longest a handshake may take (what a waiter should allow; the watchdog decides)."""
        return self.handshake_timeout * (3 if self.patient else 1) + 1.0

    async def _async_keepalive(self) -> None:
        interval = self.timings.keepalive_interval
        while not self.closed.is_set():
            await asyncio.sleep(interval)
            if not self.authenticated.is_set():
                self.last_seen = time.monotonic()  # until then the handshake watchdog decides
            elif time.monotonic() - self.last_seen > self.timings.keepalive_timeout:
                await self.async_close("peer went silent")
                return
            elif turn_allocation_lost(self.pc):
                await self.async_close(TURN_LOST)  # the dialer builds a new session (and allocation)
                return
            self._ping()

    def _ping(self) -> None:
        if self._control is not None and not self.closed.is_set():
            opaque = os.urandom(8)
            self._rtt.sent(opaque, time.monotonic())
            self._control.ping(opaque)
            self._flush()
