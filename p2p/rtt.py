"""A smoothed round-trip time from keepalive PING/PONG pairs (sans-IO: the caller passes the clock).

Each PING carries a fresh random opaque value; the estimator remembers when it sent the last few
and takes a sample only when a PONG echoes one of them exactly (once: a replayed or invented PONG
changes nothing). Smoothing is RFC 6298's: the first sample is the estimate, then
`srtt = 7/8 srtt + 1/8 sample`.
"""

from __future__ import annotations

from collections import OrderedDict

MAX_OUTSTANDING = 8
"""Pings remembered at once; an older unanswered one is forgotten (its PONG, if late, counts for nothing)."""
ALPHA = 0.125


class RttEstimator:
    """The smoothed round trip, in seconds (None before the first answered ping)."""

    def __init__(self) -> None:
        self.srtt: float | None = None
        self.latest: float | None = None
        self._sent: OrderedDict[bytes, float] = OrderedDict()

    def sent(self, opaque: bytes, now: float) -> None:
        """A PING carrying `opaque` left at `now`."""
        self._sent[opaque] = now
        self._sent.move_to_end(opaque)
        while len(self._sent) > MAX_OUTSTANDING:
            self._sent.popitem(last=False)

    def answered(self, opaque: bytes, now: float) -> float | None:
        """A PONG echoing `opaque` arrived at `now`: the sample it gave, or None if it matched no ping."""
        at = self._sent.pop(opaque, None)
        if at is None or now < at:
            return None
        sample = now - at
        self.latest = sample
        self.srtt = sample if self.srtt is None else (1 - ALPHA) * self.srtt + ALPHA * sample
        return sample
