"""The node's sessions by peer key: half-open and live sessions, bans, and the events they raise.

It is what every `Session` reports to (through `PeerNode`, the `SessionOwner`), and the one
place that turns session happenings into app events (`p2p.events`). However a session was made
(the LAN endpoint, a relay, dialed or answered), it ends up here the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from p2p.admission import Admission, Slot
from p2p.budget import Counter
from p2p.config import Timings
from p2p.control import ControlEvent, Matched, Unmatched
from p2p.events import (
    PeerBanned,
    PeerConnected,
    PeerDisconnected,
    PeerEvent,
    Received,
    RoomMatched,
    RoomUnmatched,
)
from p2p.peer_score import PeerScore
from p2p.resources import trim_heap
from p2p.rooms import RoomSecret
from p2p.session import Session

log = logging.getLogger(__name__)

TRIM_AFTER = 8
"""Sessions closed since the last trim after which, a second after none is left half-open (a
flood's end), freed heap is handed back."""

Listener = Callable[[PeerEvent], None]


class SessionTable:
    """Sessions by peer key, with their admission slots, the ban list and the event fan-out."""

    def __init__(self, timings: Timings, admission: Admission, *, queue_events: bool = True) -> None:
        self.timings = timings
        self.admission = admission
        self.events: asyncio.Queue[PeerEvent] = asyncio.Queue()
        self.listeners: list[Listener] = []
        self.sessions: dict[bytes, Session] = {}
        self.pending: set[Session] = set()
        self.dialing: Counter[bytes] = Counter()
        self.slots: dict[Session, Slot] = {}
        self.secrets: list[RoomSecret] = []
        self.secret_rooms: frozenset[bytes] = frozenset()
        self.score = PeerScore(limit=timings.malformed_limit, window=timings.malformed_window,
                               ban_seconds=timings.ban_seconds)
        self.stopping = False
        self._queue_events = queue_events
        self._closed_since_trim = 0
        self._trim: asyncio.TimerHandle | None = None
        self.heap_trims = 0

    # -- queries -------------------------------------------------------------------------------------
    def peers(self) -> list[bytes]:
        """Public keys of the peers with an authenticated session."""
        return [k for k, s in self.sessions.items() if s.is_authenticated]

    def live(self, peer: bytes) -> Session | None:
        """The authenticated, open session with `peer`, if any."""
        session = self.sessions.get(peer)
        return session if session is not None and session.is_authenticated else None

    def is_banned(self, peer: bytes) -> bool:
        return self.score.is_banned(peer, time.monotonic())

    def ban_remaining(self, peer: bytes) -> float:
        return self.score.ban_remaining(peer, time.monotonic())

    async def async_wait_for_peer(self, peer: bytes, timeout: float) -> None:
        """Wait until an authenticated session with `peer` exists; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while self.live(peer) is None:
            if time.monotonic() > deadline:
                raise asyncio.TimeoutError
            await asyncio.sleep(0.02)

    def all_sessions(self) -> list[Session]:
        return list(self.sessions.values()) + list(self.pending)

    # -- changes -------------------------------------------------------------------------------------
    def add_pending(self, session: Session, slot: Slot | None = None) -> None:
        self.pending.add(session)
        if slot is not None:
            self.slots[session] = slot

    def set_secrets(self, secrets: list[RoomSecret]) -> None:
        self.secrets = list(secrets)
        self.secret_rooms = frozenset(s.room_id for s in secrets)
        for session in self.all_sessions():
            session.set_secrets(self.secrets)

    # -- SessionOwner ----------------------------------------------------------------------------------
    def session_authenticated(self, session: Session) -> None:
        self.pending.discard(session)
        slot = self.slots.get(session)
        if slot is not None:
            self.admission.authenticated(slot)
        peer = session.peer_key
        if self.stopping or self.is_banned(peer):
            session.close_soon("banned")
            return
        old = self.sessions.get(peer)
        self.sessions[peer] = session
        if old is not None and old is not session:
            self.emit(PeerDisconnected(peer, "replaced by a new session"))
            old.close_soon("replaced by a new session")
        self.emit(PeerConnected(peer))

    def session_control_event(self, session: Session, event: ControlEvent) -> None:
        if self.sessions.get(session.peer_key) is not session:
            return
        if isinstance(event, Matched):
            self.emit(RoomMatched(session.peer_key, event.room_id, event.my_label, event.their_label))
        elif isinstance(event, Unmatched):
            self.emit(RoomUnmatched(session.peer_key, event.room_id, event.my_label, event.their_label))

    def session_data(self, session: Session, channel: str, room_id: bytes | None, payload: bytes) -> None:
        if self.sessions.get(session.peer_key) is not session:
            return
        if room_id is not None and room_id not in self.secret_rooms:
            log.debug("dropping data for a room we do not hold")
            return
        self.emit(Received(session.peer_key, channel, room_id, payload))

    def session_malformed(self, session: Session, reason: str) -> None:
        peer = session.peer_key
        log.info("malformed input from %s: %s", peer.hex()[:16], reason)
        if self.score.record_malformed(peer, time.monotonic()):
            self.banned(peer, f"repeated malformed frames ({reason})")

    def session_auth_failed(self, session: Session, reason: str) -> None:
        self.score.ban(session.peer_key, time.monotonic(), reason)
        self.banned(session.peer_key, f"authentication failed: {reason}")

    def session_closed(self, session: Session, reason: str) -> None:
        self.pending.discard(session)
        slot = self.slots.pop(session, None)
        if slot is not None:
            self.admission.release(slot)
        peer = session.peer_key
        if self.sessions.get(peer) is session:
            del self.sessions[peer]
            self.emit(PeerDisconnected(peer, reason))
        self._closed_since_trim += 1
        if self._closed_since_trim >= TRIM_AFTER and not self.pending and self._trim is None:
            self._trim = asyncio.get_running_loop().call_later(1.0, self._trim_heap)

    def _trim_heap(self) -> None:
        self._trim = None
        if not self.pending:
            self._closed_since_trim = 0
            self.heap_trims += trim_heap()

    def report_invalid(self, peer: bytes, reason: str) -> None:
        session = self.sessions.get(peer)
        if session is not None:
            self.session_malformed(session, reason)

    def banned(self, peer: bytes, reason: str) -> None:
        log.warning("banning peer %s: %s", peer.hex()[:16], reason)
        self.emit(PeerBanned(peer, reason))
        for session in [self.sessions.get(peer), *self.pending]:
            if session is not None and session.peer_key == peer:
                session.close_soon("banned")

    # -- events ----------------------------------------------------------------------------------------
    def emit(self, event: PeerEvent) -> None:
        if self._queue_events:
            self.events.put_nowait(event)
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")
