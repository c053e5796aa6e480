"""Misbehaviour accounting: counts malformed input per peer and bans repeat offenders for a while.

Sans-IO: the caller passes the current time (a monotonic clock) into every method.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Record:
    strikes: deque[float] = field(default_factory=deque)
    total: int = 0


class PeerScore:
    """Malformed-frame counters and a ban list, keyed by peer public key (or any bytes id)."""

    def __init__(self, *, limit: int, window: float, ban_seconds: float) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self.ban_seconds = ban_seconds
        self._records: dict[bytes, _Record] = {}
        self._bans: dict[bytes, tuple[float, str]] = {}

    def record_malformed(self, peer: bytes, now: float) -> bool:
        """Count one malformed frame from `peer`; True when this strike gets the peer banned."""
        record = self._records.setdefault(peer, _Record())
        record.total += 1
        record.strikes.append(now)
        while record.strikes and record.strikes[0] <= now - self.window:
            record.strikes.popleft()
        if len(record.strikes) >= self.limit and not self.is_banned(peer, now):
            self.ban(peer, now, f"{len(record.strikes)} malformed frames")
            return True
        return False

    def ban(self, peer: bytes, now: float, reason: str) -> None:
        """Ban `peer` for `ban_seconds` from `now`, and forget its strikes."""
        self._bans[peer] = (now + self.ban_seconds, reason)
        record = self._records.get(peer)
        if record is not None:
            record.strikes.clear()

    def is_banned(self, peer: bytes, now: float) -> bool:
        """True while `peer` is banned; an expired ban is dropped."""
        ban = self._bans.get(peer)
        if ban is None:
            return False
        if now >= ban[0]:
            del self._bans[peer]
            return False
        return True

    def ban_remaining(self, peer: bytes, now: float) -> float:
        """Seconds left on `peer`'s ban, 0.0 when not banned."""
        if not self.is_banned(peer, now):
            return 0.0
        return self._bans[peer][0] - now

    def ban_reason(self, peer: bytes) -> str | None:
        """Why `peer` was banned, if it is."""
        ban = self._bans.get(peer)
        return None if ban is None else ban[1]

    def malformed_total(self, peer: bytes) -> int:
        """Malformed frames ever counted against `peer`."""
        record = self._records.get(peer)
        return 0 if record is None else record.total
