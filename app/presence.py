"""Presence, typing and other live signals: ephemeral state on the `live` channel, never written to the log.

Our status (online, idle by itself after `idle_after` seconds without `note_activity`, or set by
hand) and our display name go only to peers that proved they share a room with us: a stranger on
the LAN learns neither. Typing goes to the peers of that room. Other parts (voice) send and hear
their own signals through `send_live` and the `live` listeners.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from p2p.errors import P2PError
from p2p.node import PeerNode

from .room import Room
from .service_types import ServiceListeners, call_all
from .wire import WireError, decode_live, encode_live

log = logging.getLogger(__name__)

TYPING_SECONDS = 6.0
IDLE_AFTER = 300.0  # seconds without `note_activity()` after which we show as idle


@dataclass
class Presence:
    status: str  # online, idle, offline
    since: float
    name: str = ""


class PresenceBook:
    """Who is online and who is typing, and our own status."""

    def __init__(self, peer: PeerNode, listeners: ServiceListeners, my_key: bytes,
                 my_name: Callable[[], str]) -> None:
        self.peer = peer
        self.listeners = listeners
        self.my_key = my_key
        self._my_name = my_name
        self.presence: dict[bytes, Presence] = {}
        self.typing: dict[tuple[bytes, str], dict[bytes, float]] = {}
        self.status = "online"
        self.auto_idle = False  # we are idle because nobody touched the UI, not because someone said so
        self.last_activity: float | None = None  # None until the UI first reports activity (headless stays online)
        self.idle_after = IDLE_AFTER
        self._told: set[bytes] = set()  # peers we sent our presence to since they connected

    # ----- ours ----------------------------------------------------------------------------------

    def _signal(self) -> bytes:
        return encode_live("presence", s=self.status, n=self._my_name())

    def set_status(self, status: str) -> None:
        self.auto_idle = False
        self._set_mine(status)

    def _set_mine(self, status: str) -> None:
        changed = status != self.status
        self.status = status
        for peer in self._told:
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(peer, "live", None, self._signal())
        if changed:
            call_all(self.listeners.presence, self.my_key, status)

    def note_activity(self) -> None:
        """The person is using the app: back to online if we went idle by ourselves. Until the first call a
        node never goes idle (a headless node has nobody to watch)."""
        self.last_activity = time.monotonic()
        if self.auto_idle:
            self.auto_idle = False
            if self.status == "idle":
                self._set_mine("online")

    def check_idle(self, now: float) -> None:
        if self.last_activity is None or self.auto_idle or self.status != "online":
            return
        if now - self.last_activity >= self.idle_after:
            self._set_mine("idle")
            self.auto_idle = True

    def room_shared(self, peer: bytes) -> None:
        """`peer` proved it shares a room with us: now it may know our status and name."""
        if peer not in self._told:
            self._told.add(peer)
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(peer, "live", None, self._signal())

    # ----- theirs --------------------------------------------------------------------------------

    def connected(self, peer: bytes) -> None:
        self.set_presence(peer, "online")

    def disconnected(self, peer: bytes) -> None:
        self._told.discard(peer)
        if peer not in self.peer.peers():
            self.set_presence(peer, "offline")

    def set_presence(self, peer: bytes, status: str, name: str = "") -> None:
        old = self.presence.get(peer)
        self.presence[peer] = Presence(status, time.monotonic(), name or (old.name if old else ""))
        if old is None or old.status != status:
            log.info("%s is %s", peer.hex()[:12], status)
            call_all(self.listeners.presence, peer, status)

    def status_of(self, peer: bytes) -> str:
        if peer == self.my_key:
            return self.status
        p = self.presence.get(peer)
        return p.status if p else "offline"

    def name_of(self, peer: bytes) -> str:
        p = self.presence.get(peer)
        return p.name if p else ""

    # ----- typing and other live signals -----------------------------------------------------------

    def set_typing(self, room: Room, channel: str, typing: bool = True) -> None:
        self.broadcast(room.id, encode_live("typing", c=channel, on=typing))

    def typing_in(self, room_id: bytes, channel: str) -> list[bytes]:
        now = time.monotonic()
        who = self.typing.get((room_id, channel), {})
        return [p for p, until in who.items() if until > now]

    def expire_typing(self, now: float) -> None:
        for slot in self.typing.values():
            for peer in [p for p, until in slot.items() if until <= now]:
                del slot[peer]

    def send_live(self, room_id: bytes | None, payload: dict[str, Any], to: bytes | None = None) -> None:
        """Send an app-defined live signal (e.g. voice-channel membership) to the peers of a room, or only to `to`."""
        kind = str(payload.get("t", ""))
        fields = {k: v for k, v in payload.items() if k != "t"}
        if to is None:
            self.broadcast(room_id, encode_live(kind, **fields))
        else:
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(to, "live", room_id, encode_live(kind, **fields))

    def broadcast(self, room_id: bytes | None, payload: bytes) -> None:
        """To every peer sharing `room_id` (None: every peer sharing any room with us)."""
        for peer in self.peer.peers():
            shared = self.peer.shared_rooms(peer)
            if (room_id is not None and room_id not in shared) or not shared:
                continue
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(peer, "live", room_id, payload)

    def on_live(self, peer: bytes, room_id: bytes | None, payload: bytes) -> None:
        try:
            msg = decode_live(payload)
        except WireError as exc:
            self.peer.report_invalid(peer, str(exc))
            return
        kind = msg["t"]
        if kind == "presence":
            status = msg.get("s") if msg.get("s") in ("online", "idle", "offline") else "online"
            self.set_presence(peer, str(status), str(msg.get("n", ""))[:64])
        elif kind == "typing" and room_id is not None:
            channel = str(msg.get("c", ""))[:64]
            on = bool(msg.get("on", True))
            slot = self.typing.setdefault((room_id, channel), {})
            if on:
                slot[peer] = time.monotonic() + TYPING_SECONDS
            else:
                slot.pop(peer, None)
            call_all(self.listeners.typing, room_id, channel, peer, on)
        call_all(self.listeners.live, peer, room_id, msg)
