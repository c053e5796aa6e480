"""Voice end to end over real aiortc: two RTCPeerConnections on loopback in one process, a `voice`
data channel (unordered, maxRetransmits=0), espeak-ng speech fed through the file backend."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.voice.backends import FileBackend, read_wav, write_wav
from app.voice.engine import VoiceEngine
from app.voice.jitter import JitterStats
from app.voice.measure import align, espeak_speech, longest_gap, windowed_corr
from app.voice.transport import LossJitterInjector, VoiceTransport, connect_loopback_pair
from tests.conftest import require

TEXT = "Hubbub voice test. The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(shutil.which("espeak-ng") is not None, "needs espeak-ng")
    path = tmp_path_factory.mktemp("voice") / "speech48.wav"
    write_wav(path, espeak_speech(TEXT))
    return path


async def _call(wav: Path, out: Path, loss: float, jitter_ms: float) -> tuple[JitterStats, int, float]:
    pc_a, pc_b, chan_a, chan_b = await connect_loopback_pair()
    try:
        assert chan_a.ordered is False and chan_a.maxRetransmits == 0
        source = FileBackend(wav)
        sink = FileBackend(out_path=out)
        alice, bob = VoiceEngine(), VoiceEngine()
        tx = VoiceTransport(alice, source)
        rx = VoiceTransport(bob, sink)
        tx.add_peer("bob", chan_a, lambda send: LossJitterInjector(send, loss, jitter_ms, seed=42).send)
        rx.add_peer("alice", chan_b)
        seconds = len(source._frames) * 0.01 + 0.4
        await asyncio.gather(tx.run(seconds), rx.run(seconds))
        sink.close()
        return bob.receiver.stats("alice"), tx.late_ticks + rx.late_ticks, alice.sender.encoder.loss_pct
    finally:
        await pc_a.close()
        await pc_b.close()


def test_clean_call_reproduces_speech(speech_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "received.wav"
    stats, _, _ = asyncio.run(_call(speech_wav, out, loss=0.0, jitter_ms=0.0))
    ref = read_wav(speech_wav)
    got = read_wav(out)  # the recording the receiving bot wrote
    lag, corr = align(ref, got)
    windows = windowed_corr(ref, got, lag)
    # One lag for the whole clip: high unless the buffer stretched or dropped a frame under load;
    # window by window (each re-aligned within 30 ms) the speech must match closely.
    assert corr > 0.3, f"received audio does not match the sent speech (corr {corr:.3f})"
    assert len(windows) >= 8
    assert float(np.median(windows)) > 0.9, windows
    assert float(np.mean(np.array(windows) > 0.8)) >= 0.75, windows
    assert lag < 4800  # under 100 ms inside the two cores, with the pull phase and codec delay
    assert stats.lost == 0 and stats.late <= 2, stats
    assert stats.played > 100


def test_lossy_jittery_call_stays_continuous(speech_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "received.wav"
    stats, _, sender_loss = asyncio.run(_call(speech_wav, out, loss=0.10, jitter_ms=20.0))
    ref = read_wav(speech_wav)
    got = read_wav(out)
    lag, corr = align(ref, got)
    assert corr > 0.3, f"speech is lost under 10 % loss (corr {corr:.3f})"
    assert stats.lost > 10 and stats.concealed >= stats.lost - stats.late
    assert stats.fec_recovered > 0  # the receiver reported loss, the sender turned FEC on
    assert sender_loss > 0
    assert stats.target >= 2  # the buffer grew for 20 ms of jitter
    gap = longest_gap(ref, got, lag)
    assert gap <= 8, f"a drop-out of {gap} frames is longer than the concealment limit (8)"


def test_a_call_that_is_up_survives_25_percent_loss(speech_wav: Path, tmp_path: Path) -> None:
    # Issue 10: the set-up at 25% loss is tests/integration/test_hostile_lan.py; this is the call once up.
    out = tmp_path / "received.wav"
    stats, _, sender_loss = asyncio.run(_call(speech_wav, out, loss=0.25, jitter_ms=0.0))
    ref = read_wav(speech_wav)
    got = read_wav(out)
    lag, _ = align(ref, got)
    assert stats.lost > 50 and stats.fec_recovered > 0 and sender_loss > 10
    assert float(np.median(windowed_corr(ref, got, lag))) > 0.8, "speech is not intelligible at 25 % loss"
    assert longest_gap(ref, got, lag) <= 8
