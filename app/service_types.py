"""What the parts of the running node share: the listeners the UI registers, and the store as an entry source."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crdt.entry import Entry

from .room import Room

log = logging.getLogger(__name__)


class StoreSource:
    """A `crdt.sync.EntrySource` over a room's stored log."""

    def __init__(self, room: Room) -> None:
        self.room = room

    def heads(self) -> dict[bytes, int]:
        return self.room.log.heads()

    def hash_at(self, author: bytes, seq: int) -> bytes | None:
        return self.room.log.hash_at(author, seq)

    def entries(self, author: bytes, from_seq: int, limit: int) -> list[Entry]:
        return self.room.profile.store.author_entries(self.room.id, author, from_seq, limit)


@dataclass
class ServiceListeners:
    """Callbacks the UI or tests register; all are called on the loop."""

    entries: list[Callable[[Room, list[Entry]], None]] = field(default_factory=list)
    presence: list[Callable[[bytes, str], None]] = field(default_factory=list)
    typing: list[Callable[[bytes, str, bytes, bool], None]] = field(default_factory=list)
    rooms: list[Callable[[], None]] = field(default_factory=list)
    peers: list[Callable[[], None]] = field(default_factory=list)
    live: list[Callable[[bytes, bytes | None, dict[str, Any]], None]] = field(default_factory=list)
    voice: list[Callable[[bytes, bytes | None, bytes], None]] = field(default_factory=list)
    shared: list[Callable[[bytes, bytes], None]] = field(default_factory=list)  # (peer, room_id) now shared
    public_rooms: list[Callable[[], None]] = field(default_factory=list)  # the LAN's public-room list changed
    join_progress: list[Callable[[str, float, int], None]] = field(default_factory=list)  # (room name, seconds, peers)
    relays: list[Callable[[], None]] = field(default_factory=list)  # a relay connected, went down or changed


def call_all(callbacks: list[Callable[..., None]], *args: Any) -> None:
    """Call every listener; one that fails is logged and does not stop the others."""
    for cb in list(callbacks) if callbacks else ():
        try:
            cb(*args)
        except Exception:
            log.exception("listener failed")
