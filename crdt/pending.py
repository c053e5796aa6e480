"""Entries held back until what they need arrives: indexed by what they wait for, capped in bytes.

An entry waits for its author's previous entry, a control entry its `deps` name, a
room key, the author of an item it deletes, or its own time (one stamped more than a
couple of minutes in our future). Each wait has a key; when the thing arrives, only
the entries waiting on that key come back (`wake`), so holding many costs nothing on
the path of others. Whoever parks an entry must have checked its signature first.

Bytes are capped per room and per origin (the peer that sent it); an entry over the
cap is dropped (it is asked for again on the next exchange of heads), and an entry
that waits longer than `max_age` is expired and counted against its origin.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from .entry import Entry

ROOM_CAP_BYTES = 32 * 1024 * 1024
ORIGIN_CAP_BYTES = 8 * 1024 * 1024
MAX_AGE_MS = 60_000.0

WaitKey = Hashable


@dataclass(slots=True)
class _Held:
    entry: Entry
    wait: WaitKey
    origin: object
    since_ms: float
    size: int


def _size(e: Entry) -> int:
    return 200 + (len(e.ciphertext) if e.ciphertext is not None else 0) + 32 * len(e.deps)


class PendingPool:
    """The entries of one room that wait for something."""

    def __init__(self, room_cap: int = ROOM_CAP_BYTES, origin_cap: int = ORIGIN_CAP_BYTES) -> None:
        self.room_cap = room_cap
        self.origin_cap = origin_cap
        self._held: dict[bytes, _Held] = {}  # by entry hash
        self._by_slot: dict[tuple[bytes, int], dict[bytes, None]] = {}
        self._by_wait: dict[WaitKey, dict[bytes, None]] = {}
        self._origin_bytes: dict[object, int] = {}
        self.bytes = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._held)

    def __bool__(self) -> bool:
        return bool(self._held)

    def __contains__(self, slot: object) -> bool:
        return slot in self._by_slot

    def entries(self) -> list[Entry]:
        return [h.entry for h in self._held.values()]

    def items(self) -> list[tuple[tuple[bytes, int], Entry]]:
        return [((h.entry.author, h.entry.seq), h.entry) for h in self._held.values()]

    def origin_of(self, e: Entry) -> object:
        held = self._held.get(e.hash)
        return None if held is None else held.origin

    def park(self, e: Entry, wait: WaitKey, origin: object, now_ms: float) -> bool:
        """Hold `e` until `wake(wait)`; False (and not held) when a cap would be crossed."""
        old = self._held.get(e.hash)
        if old is not None:
            if old.wait == wait:
                return True
            self._remove(e.hash)
        size = _size(e)
        if self.bytes + size > self.room_cap or self._origin_bytes.get(origin, 0) + size > self.origin_cap:
            self.dropped += 1
            return False
        self._held[e.hash] = _Held(e, wait, origin, now_ms, size)
        self._by_slot.setdefault((e.author, e.seq), {})[e.hash] = None
        self._by_wait.setdefault(wait, {})[e.hash] = None
        self.bytes += size
        self._origin_bytes[origin] = self._origin_bytes.get(origin, 0) + size
        return True

    def _remove(self, h: bytes) -> _Held | None:
        held = self._held.pop(h, None)
        if held is None:
            return None
        slot = (held.entry.author, held.entry.seq)
        same = self._by_slot.get(slot)
        if same is not None:
            same.pop(h, None)
            if not same:
                del self._by_slot[slot]
        waiting = self._by_wait.get(held.wait)
        if waiting is not None:
            waiting.pop(h, None)
            if not waiting:
                del self._by_wait[held.wait]
        self.bytes -= held.size
        left = self._origin_bytes.get(held.origin, 0) - held.size
        if left > 0:
            self._origin_bytes[held.origin] = left
        else:
            self._origin_bytes.pop(held.origin, None)
        return held

    def wake(self, wait: WaitKey) -> list[tuple[Entry, object]]:
        """Take back every entry waiting on `wait`, with its origin."""
        slots = self._by_wait.get(wait)
        if not slots:
            return []
        out = []
        for h in list(slots):
            held = self._remove(h)
            if held is not None:
                out.append((held.entry, held.origin))
        return out

    def waits(self) -> list[WaitKey]:
        return list(self._by_wait)

    def take(self, slot: tuple[bytes, int]) -> tuple[Entry, object] | None:
        """Take back one entry held for (author, seq), if any."""
        same = self._by_slot.get(slot)
        if not same:
            return None
        held = self._remove(next(iter(same)))
        return None if held is None else (held.entry, held.origin)

    def take_from(self, author: bytes, first_seq: int) -> list[tuple[Entry, object]]:
        """Take back every entry held of `author` from `first_seq` on (all of an equivocator's past its fork)."""
        slots = [slot for slot in self._by_slot if slot[0] == author and slot[1] >= first_seq]
        out = []
        for slot in sorted(slots, key=lambda s: s[1]):
            for h in list(self._by_slot.get(slot, {})):
                held = self._remove(h)
                if held is not None:
                    out.append((held.entry, held.origin))
        return out

    def expire(self, now_ms: float, max_age_ms: float = MAX_AGE_MS) -> list[tuple[Entry, object]]:
        """Drop entries that waited too long; returns them with their origins (to count against them)."""
        old = [k for k, h in self._held.items() if now_ms - h.since_ms > max_age_ms]
        out = []
        for k in old:
            held = self._remove(k)
            if held is not None:
                out.append((held.entry, held.origin))
        return out

    def origin_bytes(self, origin: object) -> int:
        return self._origin_bytes.get(origin, 0)
