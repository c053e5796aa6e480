"""Admission on the listening side (sans-IO): what an inbound peer may cost before it is trusted.

Two lanes, decided by the KNOCK's admission tickets (p2p.room_tokens) before any peer connection
is built:

* **member**: the knock proved a room secret this node holds. Half-open sessions are capped, per
  source and in all, and that is all: room-mates are never rate limited.
* **stranger**: the knock proved nothing. A stranger's session is built only within a small
  budget: a global token bucket, one per source address, a cap on half-open stranger sessions
  (which get a short handshake timeout) and a cap on live stranger sessions.

Conversations (signaling connections) are capped too, in all and per source, with a per-source
rate, so that holding connections open or opening thousands costs this node little.
Time is passed in; nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from p2p.budget import BucketTable, Counter, TokenBucket
from p2p.config import Limits


class Lane(enum.Enum):
    """How much an inbound peer proved before its session is built."""

    MEMBER = "member"
    STRANGER = "stranger"


@dataclass(eq=False)
class Slot:
    """One admitted inbound session, held from admission until the session closes."""

    lane: Lane
    source: str
    key: bytes
    half_open: bool = True
    released: bool = False


BUSY = "busy"
"""The REJECT reason when a budget is spent; the dialer backs off and tries again later."""


class Admission:
    """Counters, caps and token buckets for inbound conversations and sessions."""

    def __init__(self, limits: Limits, now: float) -> None:
        self.limits = limits
        self._conversations: Counter[str] = Counter()
        self._open_conversations = 0
        self._conversation_rate: BucketTable[str] = BucketTable(
            limits.conversation_rate_per_source, 2 * limits.conversation_rate_per_source, limits.max_sources)
        self._stranger_bucket = TokenBucket(limits.stranger_rate, limits.stranger_burst, now)
        self._stranger_rate: BucketTable[str] = BucketTable(
            limits.stranger_rate_per_source, 3, limits.max_sources)
        self._half_open = {Lane.MEMBER: 0, Lane.STRANGER: 0}
        self._half_open_source: Counter[str] = Counter()
        self._half_open_key: Counter[bytes] = Counter()
        self._live_strangers = 0
        self.refused_conversations = 0
        self.refused_sessions = 0

    # -- conversations -----------------------------------------------------------------------------
    def open_conversation(self, source: str, now: float) -> bool:
        """May a new inbound conversation from `source` go on? If True, `close_conversation` later."""
        limits = self.limits
        if (self._open_conversations >= limits.max_conversations
                or self._conversations.get(source) >= limits.conversations_per_source
                or not self._conversation_rate.take(source, now)):
            self.refused_conversations += 1
            return False
        self._open_conversations += 1
        self._conversations.add(source)
        return True

    def close_conversation(self, source: str) -> None:
        self._open_conversations -= 1
        self._conversations.remove(source)

    # -- sessions ------------------------------------------------------------------------------------
    def admit(self, lane: Lane, source: str, key: bytes, now: float) -> Slot | None:
        """A slot for a new inbound session, or None when the lane's budget is spent."""
        limits = self.limits
        cap = limits.max_half_open_members if lane is Lane.MEMBER else limits.max_half_open_strangers
        ok = (self._half_open[lane] < cap
              and self._half_open_source.get(source) < limits.half_open_per_source
              and self._half_open_key.get(key) < 2)
        if ok and lane is Lane.STRANGER:
            ok = (self._live_strangers < limits.max_stranger_sessions
                  and self._stranger_rate.take(source, now)
                  and self._stranger_bucket.take(now))
        if not ok:
            self.refused_sessions += 1
            return None
        self._half_open[lane] += 1
        self._half_open_source.add(source)
        self._half_open_key.add(key)
        return Slot(lane, source, key)

    def authenticated(self, slot: Slot) -> None:
        """The session of `slot` authenticated: it is no longer half-open."""
        if slot.released or not slot.half_open:
            return
        self._end_half_open(slot)
        if slot.lane is Lane.STRANGER:
            self._live_strangers += 1

    def release(self, slot: Slot) -> None:
        """The session of `slot` closed (idempotent)."""
        if slot.released:
            return
        if slot.half_open:
            self._end_half_open(slot)
        elif slot.lane is Lane.STRANGER:
            self._live_strangers -= 1
        slot.released = True

    def _end_half_open(self, slot: Slot) -> None:
        slot.half_open = False
        self._half_open[slot.lane] -= 1
        self._half_open_source.remove(slot.source)
        self._half_open_key.remove(slot.key)

    def half_open_for(self, key: bytes) -> int:
        """Inbound sessions of `key` admitted and not yet authenticated or closed."""
        return self._half_open_key.get(key)

    # -- observation -----------------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """Current counts, for probes, tests and benchmarks."""
        return {
            "conversations": self._open_conversations,
            "half_open_members": self._half_open[Lane.MEMBER],
            "half_open_strangers": self._half_open[Lane.STRANGER],
            "live_strangers": self._live_strangers,
            "refused_conversations": self.refused_conversations,
            "refused_sessions": self.refused_sessions,
            "sources_tracked": len(self._conversation_rate) + len(self._stranger_rate),
        }
