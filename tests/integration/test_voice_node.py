"""Voice wired into running nodes: two NodeServices over real aiortc on loopback join a room's voice
channel, speak (espeak-ng through ArrayBackend), see each other speak, mute, and call each other."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.service import NodeService
from app.voice.backends import ArrayBackend, BackendError, read_wav, write_wav
from app.voice.calls import CallState, EndReason
from app.voice.measure import align, espeak_speech, windowed_corr
from app.voice.session import VoiceError
from tests.conftest import require
from tests.integration.test_service_loopback import run, service, started, until

pytestmark = pytest.mark.timeout(90)

TEXT = "Hubbub voice channel test. The quick brown fox jumps over the lazy dog."
LOUNGE = "lounge"  # every new room has this voice channel


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    require(shutil.which("espeak-ng") is not None, "needs espeak-ng")
    pcm = espeak_speech(TEXT)
    pad = np.zeros(48000 * 6 // 10, dtype=np.int16)  # 0.6 s of quiet after it: the gate closes
    return np.concatenate([pcm, pad])




async def _connect(a: NodeService, b: NodeService) -> bytes:
    room = a.create_room("party")
    invite = a.create_invite(room)
    await b.async_connect(*a.address)
    await b.async_join(invite.link(), 15)
    me_a, me_b = a.node.profile.public_key, b.node.profile.public_key
    await until(lambda: room.id in a.peer.shared_rooms(me_b) and room.id in b.peer.shared_rooms(me_a), 10, "room shared")
    return room.id


def _rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if pcm.size else 0.0


def _sink() -> tuple[ArrayBackend, Callable[[], ArrayBackend]]:
    sink = ArrayBackend()
    return sink, lambda: sink


def test_voice_channel_speech_speaking_and_mute(tmp_path: Path, speech: np.ndarray) -> None:
    async def scenario() -> None:
        a, b = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob")
        async with started(a, b):
            room_id = await _connect(a, b)
            alice, bob = a.node.profile.public_key, b.node.profile.public_key
            source = ArrayBackend(speech, loop=True)
            a.voice.backend_factory = lambda: source
            sink, b.voice.backend_factory = _sink()
            events: list[tuple[bytes, bool, float]] = []
            loop = asyncio.get_running_loop()
            b.voice.listeners.speaking.append(lambda peer, on: events.append((peer, on, loop.time())))
            changed: list[tuple[bytes, str]] = []
            a.voice.listeners.participants.append(lambda r, c: changed.append((r, c)))

            b.voice.join(room_id, LOUNGE)
            await until(lambda: a.voice.participants(room_id, LOUNGE) == [bob], 5, "Alice to see Bob in the lounge")
            assert (room_id, LOUNGE) in changed
            assert a.voice.occupied_channels(room_id) == {LOUNGE: [bob]}
            a.voice.join(room_id, LOUNGE)
            assert a.voice.participants(room_id, LOUNGE) == [alice, bob]
            await until(lambda: b.voice.participants(room_id, LOUNGE) == [bob, alice], 5, "Bob to see Alice join")

            # One pass of the speech: Bob hears it and sees Alice speak, then stop at the pause.
            await asyncio.sleep(speech.size / 48000 + 0.3)
            heard = sink.output()
            lag, corr = align(speech[: speech.size - 28800], heard)
            windows = windowed_corr(speech, heard, lag)
            assert corr > 0.3, f"Bob's output does not match Alice's speech (corr {corr:.3f})"
            assert len(windows) >= 6 and float(np.median(windows)) > 0.85, windows
            ons = [t for p, on, t in events if p == alice and on]
            offs = [t for p, on, t in events if p == alice and not on]
            assert ons and offs and offs[-1] > ons[0], events  # lit while talking, dark in the pause
            assert b.voice.stats(alice) is not None and b.voice.stats(alice).played > 100  # type: ignore[union-attr]
            assert a.voice.speaking(alice) or any(p == alice for p, _, _ in events)

            # Mute: Bob neither hears nor sees Alice speak, and sees her flagged muted.
            a.voice.set_muted(True)
            await until(lambda: b.voice.member(alice) is not None and b.voice.member(alice).muted, 3, "mute announced")  # type: ignore[union-attr]
            await asyncio.sleep(0.5)
            start = len(sink.played)
            await asyncio.sleep(1.5)
            assert not b.voice.speaking(alice)
            assert _rms(np.concatenate(sink.played[start:])) < 1.0
            a.voice.set_muted(False)
            await until(lambda: b.voice.speaking(alice), 5, "Bob to see Alice speak again after unmute")

            # Leaving: Bob sees the channel shrink; Alice's audio stops.
            a.voice.leave()
            assert a.voice.engine is None and a.voice.channel is None
            await until(lambda: b.voice.participants(room_id, LOUNGE) == [bob], 5, "Alice to leave")
            await until(lambda: not b.voice.speaking(alice), 2, "the speaking light to go out")

    run(scenario, 80)


def test_direct_calls_ring_accept_decline_miss(tmp_path: Path, speech: np.ndarray) -> None:
    async def scenario() -> None:
        a, b = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob")
        async with started(a, b):
            room_id = await _connect(a, b)
            alice, bob = a.node.profile.public_key, b.node.profile.public_key

            # A device that cannot open fails with a sentence, and nothing changes.
            def no_device() -> ArrayBackend:
                raise BackendError("cannot open the audio device: no such device")

            a.voice.backend_factory = no_device
            with pytest.raises(VoiceError, match=r"^Cannot open the audio device: no such device\.$"):
                a.voice.join(room_id, LOUNGE)
            assert a.voice.channel is None and a.voice.engine is None
            with pytest.raises(VoiceError, match="no voice channel"):
                a.voice.join(room_id, "general")

            a.voice.backend_factory = lambda: ArrayBackend(speech)
            sink, b.voice.backend_factory = _sink()
            seen: list[CallState] = []
            b.voice.listeners.calls.append(lambda c: seen.append(c.state))

            # Ring, accept, talk, hang up.
            call = a.voice.call(bob, room_id)
            assert call.state is CallState.RINGING_OUT
            await until(lambda: b.voice.current_call is not None, 5, "Bob's node to ring")
            incoming = b.voice.current_call
            assert incoming is not None and incoming.state is CallState.RINGING_IN and incoming.peer == alice
            assert b.voice.engine is None  # ringing plays nothing yet
            b.voice.accept_call()
            await until(lambda: call.state is CallState.ACTIVE, 5, "Alice to hear the call accepted")
            await asyncio.sleep(speech.size / 48000 + 0.2)
            heard = sink.output()
            lag, corr = align(speech[: speech.size - 28800], heard)
            assert corr > 0.3, f"no speech in the call (corr {corr:.3f})"
            assert float(np.median(windowed_corr(speech, heard, lag))) > 0.85
            a.voice.hang_up()
            await until(lambda: incoming.state is CallState.ENDED, 5, "Bob to see the hang-up")
            assert call.reason is incoming.reason is EndReason.HUNG_UP
            assert a.voice.engine is None and b.voice.engine is None
            assert seen == [CallState.RINGING_IN, CallState.ACTIVE, CallState.ENDED]

            # Declined.
            call = a.voice.call(bob, room_id)
            await until(lambda: b.voice.current_call is not None, 5, "the second ring")
            b.voice.decline_call()
            await until(lambda: call.state is CallState.ENDED, 5, "Alice to hear the decline")
            assert call.reason is EndReason.DECLINED and a.voice.engine is None

            # Missed: nobody answers within the ring timeout; roomless this time.
            a.voice.calls.ring_timeout = 1.0
            call = a.voice.call(bob)
            await until(lambda: b.voice.current_call is not None, 5, "the third ring")
            await until(lambda: call.state is CallState.ENDED, 5, "the ring to time out")
            assert call.reason is EndReason.MISSED
            await until(lambda: len(b.voice.missed_calls()) == 1, 5, "Bob's missed-call notice")
            assert b.voice.missed_calls()[0].peer == alice and b.voice.current_call is None

    run(scenario, 80)


def test_hubbub_node_voice_bot_plays_and_records(tmp_path: Path, speech: np.ndarray) -> None:
    """`hubbub node --voice-room ... --voice-play ... --voice-record ...` as a real subprocess."""
    hubbub = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "hubbub"
    require(hubbub.exists(), "needs the hubbub entry point installed in .venv")
    wav, recorded = tmp_path / "speech.wav", tmp_path / "recorded.wav"
    write_wav(wav, speech)

    async def scenario() -> None:
        a, b = service(tmp_path / "bot", "Bot"), service(tmp_path / "b", "Bob")
        async with started(a, b):
            room_id = await _connect(a, b)
        bot_key = a.node.profile.public_key
        b = service(tmp_path / "b", "Bob")
        async with started(b):
            player = ArrayBackend(speech, loop=True)  # Bob talks (for the bot to record) and listens
            b.voice.backend_factory = lambda: player
            b.voice.join(room_id, LOUNGE)
            env = {k: v for k, v in os.environ.items() if k != "HUBBUB_PROFILE"}
            proc = await asyncio.create_subprocess_exec(
                str(hubbub), "--profile", str(tmp_path / "bot"), "node", "--no-mdns", "--host", "127.0.0.1",
                "--connect", "%s:%d" % b.address, "--voice-room", "party", "--voice-channel", "Lounge",
                "--voice-play", str(wav), "--voice-loop", "--voice-record", str(recorded),
                env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            try:
                await until(lambda: bot_key in b.voice.participants(room_id, LOUNGE), 30, "the bot to join")
                await until(lambda: b.voice.speaking(bot_key), 10, "the bot to speak")
                await asyncio.sleep(2 * speech.size / 48000)  # both loops started before they met: wait for a whole copy
            finally:
                proc.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(proc.communicate(), 20)
            assert proc.returncode == 0, err.decode()
            heard = player.output()
        for got in (heard, read_wav(recorded)):  # Bob hears the bot; the bot's file holds Bob
            lag, corr = align(speech[: speech.size - 28800], got)
            assert corr > 0.3, f"corr {corr:.3f}"
            assert float(np.median(windowed_corr(speech, got, lag))) > 0.85

    run(scenario, 80)


def test_bot_options_fail_with_a_sentence(tmp_path: Path) -> None:
    hubbub = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "hubbub"
    require(hubbub.exists(), "needs the hubbub entry point installed in .venv")
    profile = str(tmp_path / "p")
    env = {k: v for k, v in os.environ.items() if k != "HUBBUB_PROFILE"}
    subprocess.run([str(hubbub), "--profile", profile, "room", "create", "party"], check=True, env=env, capture_output=True)
    for args, wanted in [(["--voice-room", "party", "--voice-channel", "general"], "is not a voice channel"),
                         (["--voice-room", "party", "--voice-play", str(tmp_path / "none.wav")], "There is no file"),
                         (["--voice-play", "x.wav"], "need --voice-room")]:
        res = subprocess.run([str(hubbub), "--profile", profile, "node", "--no-mdns", "--host", "127.0.0.1", *args],
                             env=env, capture_output=True, text=True, timeout=30)
        assert res.returncode == 1 and wanted in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
