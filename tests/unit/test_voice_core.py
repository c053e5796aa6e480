"""Codec, VAD, mixer and the sender/receiver engine: mute, push-to-talk, deafen, volume, speaking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.voice.backends import ArrayBackend, BackendError, FileBackend, list_devices, read_wav, write_wav
from app.voice.codec import CLEAN_BITRATE, FRAME_SAMPLES, OpusDecoder, OpusEncoder, as_frame, bitrate_for_loss
from app.voice.engine import VoiceEngine, VoiceReceiver, VoiceSender
from app.voice.mixer import Mixer
from app.voice.packet import VoicePacket
from app.voice.transport import LossJitterInjector, VoiceTransport
from app.voice.vad import VoiceActivityDetector, level_dbfs


def tone(amp: float, n: int = 1, freq: float = 300.0) -> np.ndarray:
    t = np.arange(n * FRAME_SAMPLES) / 48000
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def frames(x: np.ndarray) -> list[np.ndarray]:
    return list(x.reshape(-1, FRAME_SAMPLES))


# -- codec ----------------------------------------------------------------------------------


def test_codec_round_trip_fec_and_plc() -> None:
    enc, dec = OpusEncoder(), OpusDecoder()
    enc.set_loss(10)
    assert enc.bitrate == bitrate_for_loss(10) > bitrate_for_loss(0) == CLEAN_BITRATE
    payloads = [enc.encode(f) for f in frames(tone(8000, 30))]
    outs = [dec.decode(p) for p in payloads[:20]]
    assert all(o.shape == (FRAME_SAMPLES,) and o.dtype == np.int16 for o in outs)
    assert level_dbfs(outs[-1]) > -20
    fec = dec.decode_fec(payloads[21])  # frame 20 lost: rebuilt from 21's FEC
    assert level_dbfs(fec) > -30
    plc = dec.conceal()
    assert plc.shape == (FRAME_SAMPLES,)
    with pytest.raises(ValueError):
        as_frame(np.zeros(100))


def test_dtx_makes_tiny_packets_in_silence() -> None:
    enc = OpusEncoder()
    sizes = [len(enc.encode(np.zeros(FRAME_SAMPLES, np.int16))) for _ in range(40)]
    assert sum(size <= 2 for size in sizes[-20:]) >= 15  # (a keep-alive frame now and then)


# -- VAD ------------------------------------------------------------------------------------


def test_vad_opens_on_speech_and_closes_after_hangover() -> None:
    vad = VoiceActivityDetector(hangover_frames=5)
    rng = np.random.default_rng(0)
    noise = [rng.normal(0, 20, FRAME_SAMPLES).astype(np.int16) for _ in range(30)]
    assert not any(vad.process(f) for f in noise)
    speech = frames(tone(6000, 10))
    flags = [vad.process(f) for f in speech]
    assert flags[0] is False and all(flags[2:])  # two frames of attack
    after = [vad.process(f) for f in noise[:10]]
    assert all(after[:5]) and not any(after[6:])


def test_vad_floor_adapts_to_steady_noise() -> None:
    vad = VoiceActivityDetector()
    rng = np.random.default_rng(1)
    loud_noise = [rng.normal(0, 400, FRAME_SAMPLES).astype(np.int16) for _ in range(400)]
    flags = [vad.process(f) for f in loud_noise]
    assert not any(flags[-100:])  # a fan is not speech, once the floor has caught up


# -- mixer ----------------------------------------------------------------------------------


def test_mixer_sums_with_volume_and_never_wraps() -> None:
    mixer = Mixer()
    a, b = tone(1000), tone(2000, freq=500)
    mixer.set_volume("b", 0.5)
    out = mixer.mix({"a": a, "b": b})
    assert np.allclose(out, a.astype(float) + 0.5 * b, atol=2)
    mixer.set_volume("b", 0.0)
    assert np.array_equal(mixer.mix({"a": a, "b": b}), a)
    loud = {p: tone(30000) for p in "xyz"}
    out = mixer.mix(loud)
    assert out.max() <= 32767 and out.min() >= -32768
    # the limiter scaled instead of clipping: the shape is still a sine
    assert np.corrcoef(out.astype(float), loud["x"].astype(float))[0, 1] > 0.999
    assert mixer.limiter_gain < 0.5
    for _ in range(40):
        mixer.mix({"a": a})
    assert mixer.limiter_gain == pytest.approx(1.0)


# -- engine ---------------------------------------------------------------------------------


def talk(sender: VoiceSender, receiver: VoiceReceiver, pcm: np.ndarray, t0: float = 0.0) -> list[np.ndarray]:
    out = []
    for i, f in enumerate(frames(pcm)):
        now = t0 + i * 0.01
        for p in sender.push_pcm(f, now):
            receiver.receive("alice", p, now + 0.001)
        out.append(receiver.pull(now + 0.005))
    return out


def test_speaking_flag_follows_voice_and_dtx_stops_sending() -> None:
    s, r = VoiceSender(), VoiceReceiver()
    out = talk(s, r, tone(8000, 50))
    assert r.speaking("alice") and s.speaking
    sent = s.packets_out
    talk(s, r, np.zeros(60 * FRAME_SAMPLES, np.int16), t0=0.5)
    assert not r.speaking("alice") and not s.speaking
    assert s.packets_out - sent <= 32  # hangover, then one DTX packet, then nothing
    assert level_dbfs(np.concatenate(out[10:])) > -20


def test_mute_and_push_to_talk() -> None:
    s = VoiceSender(push_to_talk=True)
    speech = frames(tone(8000, 20))
    assert sum(len(s.push_pcm(f, 0.0)) for f in speech) == 0  # key not pressed
    s.set_ptt(True)
    assert sum(len(s.push_pcm(f, 0.0)) for f in speech) >= 15
    s.muted = True
    packets = [p for f in speech for p in s.push_pcm(f, 0.0)]
    assert len(packets) == 1 and VoicePacket.parse(packets[0]).dtx  # one closing DTX packet


def test_deafen_peer_mute_and_volume() -> None:
    s, r = VoiceSender(), VoiceReceiver()
    loud = talk(s, r, tone(8000, 30))
    base = level_dbfs(loud[-1])
    r.set_volume("alice", 0.25)
    quieter = talk(s, r, tone(8000, 30), t0=0.3)
    assert level_dbfs(quieter[-1]) < base - 10
    r.set_peer_muted("alice", True)
    assert level_dbfs(talk(s, r, tone(8000, 10), t0=0.6)[-1]) < -100
    assert r.speaking("alice")  # muted locally, still shown speaking
    r.set_peer_muted("alice", False)
    r.set_deafened(True)
    assert level_dbfs(talk(s, r, tone(8000, 10), t0=0.7)[-1]) < -100


def test_loss_reports_reach_the_encoder() -> None:
    a, b = VoiceEngine(), VoiceEngine()
    speech = frames(tone(8000, 300))
    rng = np.random.default_rng(3)
    for i, f in enumerate(speech):
        now = i * 0.01
        _, out = a.tick(f, now)
        for item in out:
            if rng.random() > 0.1:
                b.receive("a", item.data, now + 0.001)
        _, back = b.tick(None, now + 0.005)
        for item in back:
            assert item.peer == "a"
            a.receive("b", item.data, now + 0.006)
    assert 3 <= a.sender.encoder.loss_pct <= 25
    assert a.sender.encoder.bitrate > CLEAN_BITRATE


# -- backends and the injector --------------------------------------------------------------


def test_file_backend_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "in.wav"
    write_wav(src, tone(5000, 10))
    bot = FileBackend(src, tmp_path / "out.wav")
    got = [bot.read_frame() for _ in range(11)]
    assert got[-1] is None and all(g is not None for g in got[:10])
    for g in got[:10]:
        assert g is not None
        bot.write_frame(g)
    bot.close()
    assert np.array_equal(read_wav(tmp_path / "out.wav"), tone(5000, 10))
    with pytest.raises(BackendError):
        read_wav(tmp_path / "missing.wav")
    looping = ArrayBackend(tone(100, 2), loop=True)
    assert all(looping.read_frame() is not None for _ in range(5))


def test_device_listing_fails_cleanly_or_lists() -> None:
    try:
        devices = list_devices()
    except BackendError as exc:
        assert str(exc)  # a clear sentence, not a crash
    else:
        assert devices


def test_injector_drops_about_p() -> None:
    got: list[bytes] = []
    inj = LossJitterInjector(got.append, loss=0.2, jitter_ms=0.0, seed=1)
    for i in range(2000):
        inj.send(bytes([i % 256]))
    assert 300 < inj.dropped < 500 and len(got) == inj.sent
    inj.jitter_ms = 20
    delays = [inj.decide() for _ in range(1000)]
    kept = [d for d in delays if d is not None]
    assert 0 <= min(kept) and max(kept) <= 0.020 and np.mean(kept) == pytest.approx(0.010, abs=0.002)


def test_fec_is_on_from_the_first_packet() -> None:
    # in-band FEC is planned for a little loss from the start, not only after the first report
    enc = OpusEncoder()
    assert enc.expected_loss_pct >= 1 and enc.bitrate == CLEAN_BITRATE
    enc.set_loss(0)
    assert enc.expected_loss_pct >= 1 and enc.loss_pct == 0
    enc.set_loss(7)
    assert enc.expected_loss_pct == 7
    assert OpusEncoder(fec=False).expected_loss_pct == 0
    s = VoiceSender(gate=False)
    pkts = [VoicePacket.parse(p) for f in frames(tone(8000, 5)) for p in s.push_pcm(f, 0.0)]
    assert not pkts[0].fec and all(p.fec for p in pkts[1:])
    # the second packet rebuilds a lost first one better than PLC does
    dec_fec, dec_plc = OpusDecoder(), OpusDecoder()
    ref = OpusDecoder().decode(pkts[0].payload)
    err_fec = np.abs(dec_fec.decode_fec(pkts[1].payload).astype(float) - ref).mean()
    err_plc = np.abs(dec_plc.conceal().astype(float) - ref).mean()
    assert err_fec < err_plc


# -- the transport's clock after a stall ------------------------------------------------------


class _LoopChannel:
    """An in-memory data channel that, like aiortc, delivers a few loop iterations after send."""

    def __init__(self) -> None:
        self.peer: _LoopChannel | None = None
        self.handlers: list[Callable[[bytes], None]] = []

    def on(self, event: str, f: Callable[[bytes], None]) -> None:
        self.handlers.append(f)

    def send(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        assert self.peer is not None
        target = self.peer

        def hop(n: int) -> None:
            if n:
                loop.call_soon(hop, n - 1)
            else:
                for h in target.handlers:
                    h(data)

        loop.call_soon(hop, 4)


def test_catch_up_after_a_stall_waits_for_held_up_packets() -> None:
    # Both ends share one loop that stalls now and then (as on a loaded machine): the missed
    # ticks run afterwards, but the receiver's catch-up pulls wait for the packets held up by
    # the same stall, so the buffer at most stretches once per stall and does not drain.
    async def main() -> tuple[VoiceEngine, VoiceTransport]:
        a, b = _LoopChannel(), _LoopChannel()
        a.peer, b.peer = b, a
        alice, bob = VoiceEngine(), VoiceEngine()  # 1.1 s of tone, then the gate closes (DTX)
        tx = VoiceTransport(alice, ArrayBackend(np.concatenate([tone(8000, 110), tone(0, 50)])))
        rx = VoiceTransport(bob, ArrayBackend())
        tx.add_peer("bob", a)
        rx.add_peer("alice", b)

        async def stall() -> None:
            for _ in range(4):
                await asyncio.sleep(0.25)
                time.sleep(0.035)

        async def rx_later() -> None:
            await asyncio.sleep(0.005)
            await rx.run(1.6)

        await asyncio.gather(tx.run(1.6), rx_later(), stall())
        return bob, rx

    bob, rx = asyncio.run(main())
    st = bob.receiver.stats("alice")
    assert st.played >= 115 and st.lost == 0
    assert st.underruns <= 4 and st.dropped <= 1, st  # at most one stretch per stall
