"""A dial target woken while its dial round is under way (TURN servers arrived, a new candidate) dials again at once.

Before, the sleep after a failed round cleared the wake first, so such a target slept its whole
backoff.
"""

from __future__ import annotations

import asyncio
import time

from p2p.config import Limits, Timings
from p2p.dialer import Dialer
from p2p.errors import SignalingError
from p2p.hints import HintTable
from p2p.routes import Address, Hint

PEER = b"k" * 32


async def dial_times(wake_during_first: bool) -> list[float]:
    """When a failing target's first two dials began (its backoff is 3 s)."""
    timings = Timings(backoff_initial=3.0, backoff_max=3.0)
    limits = Limits()
    hints = HintTable(limits)
    started: list[float] = []
    dialer: Dialer

    async def dial(address: Address, key: bytes | None) -> bytes:
        started.append(time.monotonic())
        if wake_during_first and len(started) == 1:
            dialer.wake_all()  # as the node does when TURN servers arrive during the round
        await asyncio.sleep(0.05)
        raise SignalingError("no answer")

    dialer = Dialer(timings, limits, hints, dial, lambda key: None, lambda key: False, lambda key: 0.0)
    hint = Hint("relay:x", "n1", Address("relay:x", "relay", 0, b"via"), peer_key=PEER)
    assert hints.seen(hint)
    dialer.hint_seen(hint, True)
    try:
        deadline = time.monotonic() + 5
        while len(started) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await dialer.async_stop()
    return [t - started[0] for t in started]


def test_a_wake_during_a_failing_round_skips_the_backoff() -> None:
    times = asyncio.run(dial_times(wake_during_first=True))
    assert len(times) == 2 and times[1] < 1.0, times


def test_without_a_wake_a_failing_target_waits_its_backoff() -> None:
    times = asyncio.run(dial_times(wake_during_first=False))
    assert len(times) == 2 and times[1] > 2.0, times
