"""`python -m bench voice`: mouth-to-ear latency, PESQ-WB, concealment and CPU of Hubbub voice.

Every figure runs the real stack: the sans-IO voice core driven by `VoiceTransport` on a 10 ms
clock, over real aiortc data channels (`voice`: unordered, maxRetransmits=0). Loss and jitter are
injected in user space, on the sender's side.

The issue's figures (`mouth_to_ear_*`, `pesq_wb_*`, `concealed_frames_pct_loss5`,
`cpu_pct_per_stream`) come from calls between two processes in two network namespaces on one
bridge (`tests.integration.netns.NetnsLan`): the speaker (`bench.voice_peer tx`) in one, the
listener (`bench.voice_peer rx`) in the other, one aiortc peer connection each, signaled over a
TCP connection. The listener's played audio comes back as a file for PESQ. Needs root.

The same calls with both peers in this one process on loopback (one event loop for both ends and
both SCTP stacks) are kept as `*_loopback`, and `cpu_pct_mesh6` is a 6-node mesh in this process
(its CPU divided by 6).

Mouth-to-ear: from the tick at which a frame enters the sender's core to the tick at which the
receiver's core plays that frame (both on CLOCK_MONOTONIC, one clock for all namespaces), plus the
Opus look-ahead (6.5 ms) that delays every sample inside the codec. Device buffers are excluded.
The receiver's clock runs 5 ms (half a frame) after the sender's, the mean of the arbitrary phase
between two sound cards' clocks.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.voice.backends import ArrayBackend
from app.voice.codec import SAMPLE_RATE, OpusEncoder
from app.voice.engine import VoiceEngine
from app.voice.jitter import JitterStats, Playout
from app.voice.measure import align, espeak_speech
from app.voice.transport import LossJitterInjector, VoiceTransport, connect_loopback_pair

RX_PHASE = 0.005  # the receiver's 10 ms clock runs half a frame after the sender's: the mean phase
LOOKAHEAD_S = OpusEncoder().lookahead_samples / SAMPLE_RATE
TEXT_QUICK = "Hubbub voice benchmark. The quick brown fox jumps over the lazy dog."
TEXT_FULL = (
    "Hubbub voice benchmark. The quick brown fox jumps over the lazy dog. "
    "Peer to peer voice at a LAN party should feel as immediate as Mumble. "
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells."
)
NO_NETNS = (
    "bench voice measures between two network namespaces, which needs root and iproute2 (`ip netns`); "
    "run it as root."
)


@dataclass
class CallResult:
    """What one measured call produced."""

    latencies_ms: list[float] = field(default_factory=list)
    received: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    stats: JitterStats = field(default_factory=JitterStats)
    cpu_s: float = 0.0
    wall_s: float = 0.0


async def _loopback_call(speech: np.ndarray, loss: float, jitter_ms: float, seed: int) -> CallResult:
    pc_a, pc_b, chan_a, chan_b = await connect_loopback_pair()
    result = CallResult()
    try:
        alice, bob = VoiceEngine(), VoiceEngine()
        source, sink = ArrayBackend(speech), ArrayBackend()
        pushed: dict[int, float] = {}

        def on_tx(now: float) -> None:
            if not source.exhausted or alice.sender.frames_in > len(pushed):
                pushed[alice.sender.last_timestamp] = now

        def on_rx(now: float) -> None:
            buf = bob.receiver.buffers.get("alice")
            if buf is not None and buf.last_kind is Playout.PACKET and buf.last_timestamp in pushed:
                result.latencies_ms.append((now - pushed[buf.last_timestamp] + LOOKAHEAD_S) * 1000)

        tx = VoiceTransport(alice, source, on_tick=on_tx)
        rx = VoiceTransport(bob, sink, on_tick=on_rx)
        tx.add_peer("bob", chan_a, lambda send: LossJitterInjector(send, loss, jitter_ms, seed=seed).send)
        rx.add_peer("alice", chan_b)
        seconds = speech.size / SAMPLE_RATE + 0.3
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(tx.run(seconds), _after(RX_PHASE, rx.run(seconds)))
        result.cpu_s = time.process_time() - cpu0
        result.wall_s = time.perf_counter() - wall0
        result.received = sink.output()
        result.stats = bob.receiver.stats("alice")
    finally:
        await pc_a.close()
        await pc_b.close()
    return result


async def _after(delay: float, coro: Coroutine[Any, Any, None]) -> None:
    await asyncio.sleep(delay)
    await coro


def from_record(record: dict[str, Any]) -> CallResult:
    """A netns call's `bench.voice_peer tx` line (with the listener's report inside) as a result."""
    rx = record["rx"]
    pushed = {int(ts): float(t) for ts, t in record["pushed"]}
    return CallResult(
        latencies_ms=[(float(t) - pushed[int(ts)] + LOOKAHEAD_S) * 1000 for ts, t in rx["played"] if int(ts) in pushed],
        received=np.load(rx["pcm"]).astype(np.int16),
        stats=JitterStats(**rx["stats"]),
        cpu_s=float(record["cpu_s"]) + float(rx["cpu_s"]),  # both ends
        wall_s=max(float(record["wall_s"]), float(rx["wall_s"])),
    )


def _netns_calls(speech: np.ndarray, specs: list[dict[str, Any]]) -> list[CallResult]:
    """Run `specs` (loss, jitter_ms, seed) one after another between two network namespaces."""
    from bench.voice_calls import PeerCalls
    from tests.integration.netns import NetnsLan

    with tempfile.TemporaryDirectory() as tmp_name, NetnsLan(2, subnet="10.79.0") as lan:
        speaker, listener = lan.hosts
        with PeerCalls(speaker, listener, Path(tmp_name)) as calls:
            return [from_record(r) for r in calls.run(speech, specs)]


def _pesq_wb(ref48: np.ndarray, out48: np.ndarray) -> float:
    from pesq import pesq
    from scipy.signal import resample_poly

    lag, _ = align(ref48, out48)
    deg48 = out48[lag : lag + ref48.size]
    ref = resample_poly(ref48[: deg48.size].astype(np.float64), 1, 3)
    deg = resample_poly(deg48.astype(np.float64), 1, 3)
    return float(pesq(16000, ref, deg, "wb"))


async def _mesh(n: int, seconds: float) -> float:
    """CPU % of one core per node in an n-node full mesh, one speaker at a time (rotating)."""
    speech = _tone_speech(seconds)
    engines = [VoiceEngine() for _ in range(n)]
    backends = [ArrayBackend() for _ in range(n)]
    transports = [VoiceTransport(e, b) for e, b in zip(engines, backends)]
    pcs = []
    for i in range(n):
        for j in range(i + 1, n):
            pc_i, pc_j, ch_i, ch_j = await connect_loopback_pair()
            pcs += [pc_i, pc_j]
            transports[i].add_peer(f"n{j}", ch_i)
            transports[j].add_peer(f"n{i}", ch_j)
    # speaker k talks during slot k: everyone else's input is silence (gated, nothing sent)
    slot = speech.size // n
    for k, b in enumerate(backends):
        pcm = np.zeros(speech.size, np.int16)
        pcm[k * slot : (k + 1) * slot] = speech[k * slot : (k + 1) * slot]
        b.__init__(pcm)  # type: ignore[misc]
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(t.run(seconds) for t in transports))
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
    finally:
        for pc in pcs:
            await pc.close()
    return 100.0 * cpu / wall / n


def _tone_speech(seconds: float) -> np.ndarray:
    """A loud, speech-like test signal (harmonics, syllable envelope) when espeak-ng is absent."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(140 + 20 * np.sin(2 * np.pi * 0.7 * t)) / SAMPLE_RATE
    sig = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2)
    return (8000 * sig).astype(np.int16)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _figures(speech: np.ndarray, clean: list[CallResult], lossy: list[CallResult], suffix: str) -> dict[str, float]:
    lat_clean = [x for r in clean for x in r.latencies_ms]
    lat_lossy = [x for r in lossy for x in r.latencies_ms]
    concealed = sum(r.stats.concealed for r in lossy)
    total = sum(r.stats.played + r.stats.concealed for r in lossy)
    shifts = [r.stats.stretched + r.stats.underruns + r.stats.dropped for r in clean]
    return {
        f"mouth_to_ear_p50_ms{suffix}": _pct(lat_clean, 50),
        f"mouth_to_ear_p95_ms{suffix}": _pct(lat_clean, 95),
        f"mouth_to_ear_p95_ms_loss5_jitter10{suffix}": _pct(lat_lossy, 95),
        f"mouth_to_ear_p50_ms_loss5_jitter10{suffix}": _pct(lat_lossy, 50),
        f"pesq_wb_clean{suffix}": float(np.median([_pesq_wb(speech, r.received) for r in clean])),
        f"pesq_wb_loss5{suffix}": float(np.median([_pesq_wb(speech, r.received) for r in lossy])),
        f"concealed_frames_pct_loss5{suffix}": 100.0 * concealed / total if total else float("nan"),
        f"buffer_shifts_per_call_clean{suffix}": float(np.mean(shifts)) if shifts else float("nan"),
        f"cpu_pct_per_stream{suffix}": float(np.median([100.0 * r.cpu_s / r.wall_s for r in clean])),
    }


def run(quick: bool) -> dict[str, float]:
    """Run the voice benchmark; `quick` is a smoke check of well under a minute."""
    from tests.integration.netns import netns_available

    if not netns_available():
        raise SystemExit(NO_NETNS)
    if shutil.which("espeak-ng") is None:
        raise SystemExit("bench voice needs espeak-ng (apt-get install espeak-ng sox)")
    speech = espeak_speech(TEXT_QUICK if quick else TEXT_FULL)
    repeats = 1 if quick else 3

    specs = [{"loss": 0.0, "jitter_ms": 0.0, "seed": i} for i in range(repeats)]
    specs += [{"loss": 0.05, "jitter_ms": 10.0, "seed": 100 + i} for i in range(repeats)]
    calls = _netns_calls(speech, specs)
    if len(calls) != len(specs):
        raise RuntimeError(f"bench voice: {len(calls)} of {len(specs)} netns calls reported")
    out = _figures(speech, calls[:repeats], calls[repeats:], "")

    clean = [asyncio.run(_loopback_call(speech, 0.0, 0.0, seed=0))]
    lossy = [asyncio.run(_loopback_call(speech, 0.05, 10.0, seed=100))]
    loopback = _figures(speech, clean, lossy, "_loopback")
    del loopback["buffer_shifts_per_call_clean_loopback"]
    out.update(loopback)
    out["cpu_pct_mesh6"] = asyncio.run(_mesh(6, 3.0 if quick else 8.0))
    out["codec_lookahead_ms"] = LOOKAHEAD_S * 1000
    return out
