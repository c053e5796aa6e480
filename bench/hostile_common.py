"""What the hostile-LAN scenarios share: the room they use, stats from probes, percentiles, rates."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from tests.integration.netns import Probe

ROOM = "b7" * 16
SECRET = "c4" * 16
ROOM_SECRET = f"{ROOM}:{SECRET}:room"
PORT = 7411
"""The victim's fixed signaling port (the attackers are told it, as they would read it off mDNS)."""

Event = dict[str, Any]


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def peak_rate(times: Sequence[float], window: float = 1.0) -> float:
    """The most events in any `window` seconds, per second."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] < t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best / window


def stats_between(probe: Probe, start: float, end: float) -> list[Event]:
    """The probe's `stats` events from `start` to `end` (monotonic)."""
    return [e for e in probe.events if e["event"] == "stats" and start <= e["t"] <= end]


def latencies_ms(receiver: Probe, sender_key: str, start: float, end: float) -> list[float]:
    """Arrival minus send time of the `stamp` payloads `receiver` got from `sender_key` in a window."""
    out = []
    for e in receiver.events:
        if e["event"] == "Received" and e["peer"] == sender_key and start <= e["t"] <= end:
            payload = bytes.fromhex(e["payload"])
            if len(payload) == 8:
                out.append((e["t"] - struct.unpack(">d", payload)[0]) * 1000)
    return out


def connected_to(peer: str, after: float = 0.0) -> Any:
    """A probe-event predicate: an authenticated session with `peer` after `after`."""
    return lambda e: e["event"] == "PeerConnected" and e["peer"] == peer and e["t"] > after


def numbers(results: dict[str, Any]) -> dict[str, float]:
    """Only the numeric figures (what `python -m bench` prints and writes as JSON)."""
    return {k: float(v) for k, v in results.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def cpu_pct(stats: Sequence[Event]) -> float:
    """The probe's CPU use over a run of its `stats` events, in percent of one core."""
    if len(stats) < 2 or stats[-1]["t"] <= stats[0]["t"]:
        return float("nan")
    return 100.0 * float(stats[-1]["cpu_s"] - stats[0]["cpu_s"]) / float(stats[-1]["t"] - stats[0]["t"])
