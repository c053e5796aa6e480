"""Jitter buffer and concealment under synthetic loss, reordering, duplication, jitter and drift.

Each test runs a sender and a receiver in simulated time: the sender pushes a frame every 10 ms of
*its* clock, each packet is delivered after a base delay plus random jitter (or dropped, or
duplicated), and the receiver pulls a frame every 10 ms of *its* clock.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import numpy as np
import pytest

from app.voice.codec import FRAME_SAMPLES, SAMPLE_RATE, OpusDecoder, OpusEncoder
from app.voice.engine import VoiceReceiver, VoiceSender
from app.voice.jitter import JitterBuffer, Playout
from app.voice.packet import VoicePacket


def voice_like(seconds: float, seed: int = 1, pauses: bool = False) -> np.ndarray:
    """A loud harmonic signal with a syllable-rate envelope; with `pauses`, 0.5 s gaps every 1 s."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    sig = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2
    if pauses:
        env = env * ((t % 1.5) < 1.0)
    x = 9000 * sig * env + rng.normal(0, 30, t.size)
    return np.clip(x, -32768, 32767).astype(np.int16)


@dataclass
class Net:
    loss: float = 0.0
    jitter: float = 0.0  # seconds, uniform 0..jitter
    dup: float = 0.0
    delay: float = 0.001
    seed: int = 7
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


@dataclass
class Run:
    out: np.ndarray
    stats_log: list[tuple[float, int, int]]  # (time, depth, target) at each pull
    receiver: VoiceReceiver
    sent: int


def simulate(
    signal: np.ndarray,
    net: Net,
    drift: float = 0.0,
    jitter_until: float | None = None,
    gate: bool = False,
    tail: float = 0.3,
) -> Run:
    """Send `signal` through sender -> net -> receiver; `drift` > 0 means the sender runs fast."""
    sender = VoiceSender(gate=gate)
    sender.encoder.set_loss(5 if net.loss else 0)
    receiver = VoiceReceiver()
    frames = signal.reshape(-1, FRAME_SAMPLES)
    period_tx = 0.010 / (1.0 + drift)
    events: list[tuple[float, int, str, bytes]] = []
    n = 0
    for k, frame in enumerate(frames):
        t = k * period_tx
        heapq.heappush(events, (t, n, "tx", frame.tobytes()))
        n += 1
    # then the user mutes: the sender ends the stream with a DTX packet
    heapq.heappush(events, (len(frames) * period_tx, n, "mute", b""))
    n += 1
    end = len(frames) * period_tx + tail
    pulls = int(end / 0.010)
    for m in range(pulls):
        heapq.heappush(events, (0.0037 + m * 0.010, n, "pull", b""))
        n += 1
    out: list[np.ndarray] = []
    log: list[tuple[float, int, int]] = []
    sent = 0
    while events:
        t, _, kind, data = heapq.heappop(events)
        if kind in ("tx", "mute"):
            sender.muted = kind == "mute"
            pcm = np.frombuffer(data, dtype=np.int16) if data else np.zeros(FRAME_SAMPLES, np.int16)
            for pkt in sender.push_pcm(pcm, t):
                sent += 1
                if net.rng.random() < net.loss:
                    continue
                jit = net.jitter if jitter_until is None or t < jitter_until else 0.0
                copies = 2 if net.rng.random() < net.dup else 1
                for _ in range(copies):
                    heapq.heappush(events, (t + net.delay + net.rng.uniform(0, jit), n, "rx", pkt))
                    n += 1
        elif kind == "rx":
            receiver.receive("alice", data, t)
        else:
            out.append(receiver.pull(t))
            if "alice" in receiver.buffers:
                st = receiver.stats("alice")
                log.append((t, st.depth, st.target))
    return Run(np.concatenate(out), log, receiver, sent)


def best_lag_corr(ref: np.ndarray, out: np.ndarray, max_lag: int = 4800) -> tuple[int, float]:
    """The lag of `out` behind `ref` and the normalised correlation at that lag."""
    a = ref.astype(np.float64)
    b = out.astype(np.float64)
    best = (0, -1.0)
    b = np.concatenate([b, np.zeros(max(0, a.size + max_lag - b.size))])
    corr = np.correlate(b[: a.size + max_lag], a, mode="valid")
    for lag in np.argsort(corr)[-3:]:
        seg = b[lag : lag + a.size]
        c = float(np.dot(a, seg) / (np.linalg.norm(a) * np.linalg.norm(seg) + 1e-9))
        if c > best[1]:
            best = (int(lag), c)
    return best


def codec_only(sig: np.ndarray) -> np.ndarray:
    """What the codec alone makes of `sig` (same settings as the sender), for comparison."""
    enc, dec = OpusEncoder(), OpusDecoder()
    return np.concatenate([dec.decode(enc.encode(f)) for f in sig.reshape(-1, FRAME_SAMPLES)])


def test_clean_path_reproduces_signal_with_minimal_depth() -> None:
    sig = voice_like(1.0)
    run = simulate(sig, Net())
    st = run.receiver.stats("alice")
    lag, corr = best_lag_corr(codec_only(sig), run.out)
    assert corr > 0.999  # bit-exact but for the playout delay
    assert best_lag_corr(sig, run.out)[1] > 0.8
    # latency inside the core: under 2 frames of buffering plus the pull phase and codec delay
    assert lag < 3 * FRAME_SAMPLES
    assert st.concealed == 0 and st.lost == 0 and st.late == 0
    assert max(d for _, d, _ in run.stats_log) <= 2
    assert st.target == 1


def test_loss_is_concealed_with_fec_and_counted() -> None:
    sig = voice_like(2.0)
    run = simulate(sig, Net(loss=0.10, seed=3))
    st = run.receiver.stats("alice")
    dropped_by_net = run.sent - st.received
    assert dropped_by_net > 10
    assert st.lost >= dropped_by_net - 3  # every lost packet shows up as a lost slot
    assert st.concealed >= st.lost
    assert st.fec_recovered > 0  # FEC from the next packet was used
    assert st.concealed_pct < 25
    _, corr = best_lag_corr(codec_only(sig), run.out)
    assert corr > 0.6
    # continuity: no run of silent output longer than the concealment limit in the middle
    mid = run.out[4800:-9600].reshape(-1, FRAME_SAMPLES)
    silent = np.abs(mid).max(axis=1) < 50
    longest = max((len(s) for s in "".join("1" if x else "0" for x in silent).split("0")), default=0)
    assert longest <= 8


def test_duplicates_and_reordering_are_harmless() -> None:
    sig = voice_like(1.0)
    run = simulate(sig, Net(dup=0.3, jitter=0.015, seed=5))
    st = run.receiver.stats("alice")
    assert st.duplicates > 20
    assert st.played >= len(sig) // FRAME_SAMPLES - 10
    _, corr = best_lag_corr(sig, run.out)
    assert corr > 0.8


def test_depth_grows_under_jitter_and_drains_back() -> None:
    sig = voice_like(6.0)
    run = simulate(sig, Net(jitter=0.025, seed=11), jitter_until=2.5)
    during = [d for t, d, _ in run.stats_log if 1.5 < t < 2.5]
    after = [d for t, d, _ in run.stats_log if 5.0 < t < 6.0]
    targets_during = [g for t, _, g in run.stats_log if 1.5 < t < 2.5]
    targets_after = [g for t, _, g in run.stats_log if 5.0 < t < 6.0]
    assert max(targets_during) == 3
    assert np.mean(during) > np.mean(after) + 0.7
    assert max(targets_after) == 1
    assert max(after) <= 2
    st = run.receiver.stats("alice")
    assert st.dropped >= 1  # the drain happened by dropping frames
    # bounded throughout: the target never leaves 1..3 and depth never runs away
    assert all(1 <= g <= 3 for _, _, g in run.stats_log)
    assert max(d for _, d, _ in run.stats_log) <= 6


@pytest.mark.parametrize("drift", [0.01, -0.01])
def test_clock_drift_is_corrected(drift: float) -> None:
    # 1 % drift (far worse than real crystals) over 5 s would be 5 frames of skew uncorrected
    sig = voice_like(5.0, pauses=True)
    run = simulate(sig, Net(), drift=drift, gate=True)
    depths = [d for _, d, _ in run.stats_log]
    assert max(depths) <= 3
    st = run.receiver.stats("alice")
    assert st.concealed_pct < 5
    last = [d for t, d, _ in run.stats_log if t > 4.0 and d > 0]
    assert last and max(last) <= 2


def test_continuous_drift_without_pauses_drops_frames() -> None:
    sig = voice_like(4.0)
    run = simulate(sig, Net(), drift=0.01)
    st = run.receiver.stats("alice")
    assert st.dropped >= 2
    assert max(d for t, d, _ in run.stats_log if t > 1.0) <= 3


def test_late_packet_is_counted_and_not_played() -> None:
    enc = OpusEncoder()
    buf = JitterBuffer()
    sig = voice_like(0.2).reshape(-1, FRAME_SAMPLES)
    pkts = [VoicePacket(i, i * FRAME_SAMPLES, enc.encode(f), 0x04) for i, f in enumerate(sig)]
    now = 0.0
    for i in range(5):
        buf.push(pkts[i], now)
        buf.pop(now)
        now += 0.01
    buf.push(pkts[6], now)  # 5 is missing
    buf.pop(now)
    assert buf.last_kind in (Playout.PLC, Playout.FEC)
    buf.push(pkts[5], now)  # too late now
    assert buf.stats.late == 1
    buf.push(pkts[5], now)  # and again: a duplicate
    assert buf.stats.duplicates == 1


def test_concealment_stops_after_limit() -> None:
    enc = OpusEncoder()
    buf = JitterBuffer(max_conceal=4)
    sig = voice_like(0.1).reshape(-1, FRAME_SAMPLES)
    now = 0.0
    for i, f in enumerate(sig):
        buf.push(VoicePacket(i, i * FRAME_SAMPLES, enc.encode(f), 0x04), now)
        buf.pop(now)
        now += 0.01
    kinds = []
    for _ in range(8):
        buf.pop(now)
        kinds.append(buf.last_kind)
        now += 0.01
    assert kinds[:4] == [Playout.PLC] * 4
    assert kinds[4:] == [Playout.SILENCE] * 4
    assert buf.stats.underruns == 4


def test_sequence_and_timestamp_wraparound() -> None:
    enc = OpusEncoder()
    dec_ref = OpusDecoder()
    buf = JitterBuffer()
    sig = voice_like(0.3).reshape(-1, FRAME_SAMPLES)
    seq0, ts0 = 65530, (1 << 32) - 5 * FRAME_SAMPLES
    now = 0.0
    for i, f in enumerate(sig):
        payload = enc.encode(f)
        dec_ref.decode(payload)
        pkt = VoicePacket((seq0 + i) % 65536, (ts0 + i * FRAME_SAMPLES) % (1 << 32), payload, 0x04)
        buf.push(pkt, now)
        buf.pop(now)
        now += 0.01
    assert buf.stats.played == len(sig)
    assert buf.stats.lost == 0 and buf.stats.late == 0


def test_sender_restart_resets_stream() -> None:
    enc = OpusEncoder()
    buf = JitterBuffer()
    f = voice_like(0.01)
    now = 0.0
    for i in range(5):
        buf.push(VoicePacket(i, i * FRAME_SAMPLES, enc.encode(f), 0x04), now)
        buf.pop(now)
        now += 0.01
    for i in range(5):
        buf.push(VoicePacket(9000 + i, 10**9 + i * FRAME_SAMPLES, enc.encode(f), 0x04), now)
        buf.pop(now)
        now += 0.01
    assert buf.stats.played >= 8
    assert len(buf._slots) <= 2


def test_steady_jitter_does_not_drain_on_every_crest() -> None:
    # Under steady jitter the depth swings by a frame from pull to pull; the buffer drains only
    # when even its shallowest pull held more than the target, so it neither drops a frame on a
    # crest nor stretches (mid-word) on the trough that follows.
    sig = voice_like(6.0, pauses=True)
    run = simulate(sig, Net(jitter=0.010, loss=0.05, seed=13), gate=True)
    st = run.receiver.stats("alice")
    assert st.target >= 2
    assert st.dropped <= 2 and st.underruns <= 4, st


def test_a_payload_opus_rejects_is_concealed_and_counted() -> None:
    from app.voice.engine import VoiceReceiver
    from app.voice.packet import VoicePacket

    receiver = VoiceReceiver()
    for i in range(4):
        receiver.receive("peer", VoicePacket(i, 480 * i, b"\x03", 0).to_bytes(), i * 0.01)  # libopus: corrupted stream
    for i in range(10):
        assert receiver.pull(0.005 + i * 0.01).shape == (480,)
    assert receiver.stats("peer").corrupt >= 1
