"""Thin asyncio glue: drives a `VoiceEngine` on a 10 ms clock and moves its packets over data
channels (an aiortc `RTCDataChannel`, or anything with `.send(bytes)` and `.on("message", f)`).

Also `LossJitterInjector`, a user-space network impairment (drop with probability p, delay by a
random 0..J ms) that wraps a channel's send, for tests and benchmarks where kernel netem is absent.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

from app.voice.backends import AudioBackend
from app.voice.engine import VoiceEngine

TICK = 0.010
MAX_BEHIND_TICKS = 5  # if the loop stalls longer than this, skip ahead instead of bursting
CATCHUP_SLACK = 0.003  # a tick this late runs as a catch-up tick (the loop stalled)
CATCHUP_WAIT = 0.030  # how late a catch-up tick may get waiting for packets the stall held up
CATCHUP_POLL = 0.001


class Channel(Protocol):
    """The part of an aiortc RTCDataChannel the voice transport uses."""

    def send(self, data: bytes) -> None: ...

    def on(self, event: str, f: Callable[..., Any]) -> Any: ...


class LossJitterInjector:
    """Wraps a send function: drops each message with probability `loss`, delays the rest by a
    uniform random 0..`jitter_ms` milliseconds (so they may also arrive reordered)."""

    def __init__(
        self,
        send: Callable[[bytes], None],
        loss: float = 0.0,
        jitter_ms: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self._send = send
        self.loss = loss
        self.jitter_ms = jitter_ms
        self._rng = random.Random(seed)
        self.sent = 0
        self.dropped = 0

    def decide(self) -> float | None:
        """Sans-IO core of the injector: None to drop, else the delay in seconds."""
        if self._rng.random() < self.loss:
            return None
        return self._rng.uniform(0.0, self.jitter_ms) / 1000.0

    def send(self, data: bytes) -> None:
        """Send `data` through the impairment (needs a running event loop when delaying)."""
        delay = self.decide()
        if delay is None:
            self.dropped += 1
            return
        self.sent += 1
        if delay <= 0.0:
            self._deliver(data)
        else:
            asyncio.get_running_loop().call_later(delay, self._deliver, data)

    def _deliver(self, data: bytes) -> None:
        try:
            self._send(data)
        except Exception:  # the channel closed while the packet was "in flight": it is lost
            self.dropped += 1


class VoiceTransport:
    """Runs one node's voice: every 10 ms read a frame from the backend, tick the engine, send
    its packets to the peers' channels, and play the mixed frame."""

    def __init__(
        self,
        engine: VoiceEngine,
        backend: AudioBackend,
        clock: Callable[[], float] = time.monotonic,
        on_tick: Callable[[float], None] | None = None,
    ) -> None:
        self.engine = engine
        self.backend = backend
        self.clock = clock
        self.on_tick = on_tick
        self._senders: dict[str, Callable[[bytes], None]] = {}
        self.send_errors = 0
        self.ticks = 0
        self.late_ticks = 0
        self.catchup_waits = 0  # catch-up ticks that waited for held-up packets
        self._due: float | None = None  # while `run` drives the clock: when the next tick is due

    def add_peer(
        self, peer: str, channel: Channel, injector: Callable[[Callable[[bytes], None]], Callable[[bytes], None]] | None = None
    ) -> None:
        """Start exchanging voice with `peer` over `channel`; `injector` may wrap its send."""
        send: Callable[[bytes], None] = channel.send
        self._senders[peer] = injector(send) if injector is not None else send

        def on_message(message: Any) -> None:
            if isinstance(message, (bytes, bytearray)):
                self.engine.receive(peer, bytes(message), self._arrival())

        channel.on("message", on_message)

    def remove_peer(self, peer: str) -> None:
        """Stop sending to `peer` and forget its stream (its channel's hook is left inert)."""
        self._senders.pop(peer, None)
        self.engine.receiver.remove_peer(peer)

    def _send(self, peer: str, data: bytes) -> None:
        send = self._senders.get(peer)
        if send is None:
            return
        try:
            send(data)
        except Exception:  # a closing channel must not stop the clock
            self.send_errors += 1

    def _arrival(self) -> float:
        """The time a packet arrived, on the schedule the engine is ticked by.

        While the clock is behind (catching up after a stall) a packet that lands now is in time
        for the next tick still to run, so it counts as arriving then: a stall of our own loop is
        not network jitter, and must not make the jitter buffer deeper.
        """
        now = self.clock()
        return now if self._due is None else min(now, self._due)

    def tick(self, scheduled: float | None = None) -> None:
        """One 10 ms step (called by `run`, or by hand in tests). `scheduled` is the time the tick
        was due (the engine's `now`); `on_tick` gets the wall-clock time it actually ran."""
        wall = self.clock()
        now = wall if scheduled is None else scheduled
        out, packets = self.engine.tick(self.backend.read_frame(), now)
        for item in packets:
            if item.peer is None:
                for peer in list(self._senders):
                    self._send(peer, item.data)
            else:
                self._send(item.peer, item.data)
        self.backend.write_frame(out)
        self.ticks += 1
        if self.on_tick is not None:
            self.on_tick(wall)

    async def _catch_up(self, deadline: float) -> None:
        """Before a late tick: let the packets held up by the same stall land first.

        The ticks missed during a stall run back to back afterwards, but the packets delayed by
        that stall are still inside aiortc (a few loop iterations from the data channel). Pulling
        before they land would find the buffer empty and stretch it mid-word (and later drop a
        frame to drain it): each shifts the rest of the speech by 10 ms. So while a speaker's
        buffer is starved, yield to the loop, up to CATCHUP_WAIT past the tick's deadline.
        """
        waited = False
        while self.engine.receiver.starved() and self.clock() - deadline < CATCHUP_WAIT:
            waited = True
            await asyncio.sleep(CATCHUP_POLL)
        if waited:
            self.catchup_waits += 1

    async def run(self, duration: float | None = None, stop: asyncio.Event | None = None) -> None:
        """Tick every 10 ms on an absolute schedule until `duration` passes or `stop` is set.

        The engine is given each tick's scheduled time; after a stall the missed ticks run as
        catch-up ticks, each yielding to the loop first (see `_catch_up`); a stall longer than
        MAX_BEHIND_TICKS is skipped.
        """
        start = self.clock()
        deadline = start
        self._due = deadline
        try:
            while (stop is None or not stop.is_set()) and (duration is None or deadline - start < duration):
                if self.clock() - deadline > CATCHUP_SLACK:
                    await self._catch_up(deadline)
                self.tick(deadline)
                deadline += TICK
                now = self.clock()
                if now - deadline > MAX_BEHIND_TICKS * TICK:
                    self.late_ticks += 1
                    deadline = now  # stalled: skip ahead rather than send a burst
                self._due = deadline
                await asyncio.sleep(max(0.0, deadline - now))
        finally:
            self._due = None


async def connect_loopback_pair(label: str = "voice") -> tuple[Any, Any, Any, Any]:
    """Two aiortc peer connections in this process, joined on loopback by a `voice` data channel
    (unordered, no retransmits) as sessions open it. Returns (pc_a, pc_b, channel_a, channel_b).

    For tests, benchmarks and the "test my mic" loopback; the caller closes both connections.
    """
    from aiortc import RTCConfiguration, RTCPeerConnection

    pc_a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc_b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    chan_a = pc_a.createDataChannel(label, ordered=False, maxRetransmits=0)
    got_b: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    opened_a = asyncio.Event()

    @pc_b.on("datachannel")  # type: ignore[misc]
    def _on_channel(channel: Any) -> None:
        if not got_b.done():
            got_b.set_result(channel)

    chan_a.on("open", opened_a.set)
    await pc_a.setLocalDescription(await pc_a.createOffer())
    await pc_b.setRemoteDescription(pc_a.localDescription)
    await pc_b.setLocalDescription(await pc_b.createAnswer())
    await pc_a.setRemoteDescription(pc_b.localDescription)
    chan_b = await asyncio.wait_for(got_b, 15)
    await asyncio.wait_for(opened_a.wait(), 15)
    return pc_a, pc_b, chan_a, chan_b
