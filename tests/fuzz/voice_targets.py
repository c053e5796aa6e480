"""Fuzz targets for app/voice/: voice packets, the receive path down to the Opus decoder, the voice and
call signals on the live channel, and the audio files voice bots play (Ogg Opus and WAV)."""

from __future__ import annotations

import io
import struct
import wave
from typing import Any

import numpy as np

from app.voice.backends import BackendError, decode_wav
from app.voice.calls import CallBook
from app.voice.channels import VoiceRoster
from app.voice.codec import OpusEncoder
from app.voice.engine import VoiceReceiver
from app.voice.oggopus import OggOpusError, _page, decode_ogg_opus
from app.voice.packet import FLAG_DTX, FLAG_FEC, FLAG_SPEECH, PacketError, VoicePacket
from app.wire import WireError, decode_live, encode_live

from .fixtures import PEER, ROOM_ID, pub
from .harness import Target

Seeds = dict[str, list[tuple[str, bytes]]]


def _receive(data: bytes) -> int:
    """Chunks `[u8 step][u16 length][packet]`: each packet arrives `step` ms after the last, and the
    receiver is pulled once per 10 ms in between, as the audio clock does."""
    receiver = VoiceReceiver()
    now = 0.0
    next_pull = 0.01
    pos = 0
    while pos + 3 <= len(data):
        step = data[pos]
        (length,) = struct.unpack_from(">H", data, pos + 1)
        packet = data[pos + 3 : pos + 3 + length]
        pos += 3 + length
        now += step / 1000.0
        while next_pull <= now:
            receiver.pull(next_pull)
            next_pull += 0.01
        receiver.receive("peer" if step % 2 == 0 else "other", packet, now)
    for _ in range(30):
        receiver.pull(next_pull)
        next_pull += 0.01
    return receiver.bad_packets


def _live(data: bytes) -> dict[str, Any]:
    """A live message as the voice session takes it: the roster and the call book both see it."""
    msg = decode_live(data)
    roster = VoiceRoster(b"\x00" * 32)
    calls = CallBook()
    for room in (ROOM_ID, None):
        roster.receive(pub(PEER), room, msg)
        calls.receive(pub(PEER), room, msg, 1.0)
    return msg


TARGETS = [
    Target("app.voice.packet.parse", VoicePacket.parse, (PacketError,), encode=VoicePacket.to_bytes, canonical=True),
    Target("app.voice.receiver", _receive, (), max_len=8192,
           no_encoder="a stream of packets into the jitter buffers and the Opus decoder"),
    Target("app.voice.live", _live, (WireError,), no_encoder="app.wire.decode_live checks the encoding"),
    Target("app.voice.oggopus.decode_ogg_opus", decode_ogg_opus, (OggOpusError,), max_len=16384,
           no_encoder="Opus is lossy: samples do not re-encode to the same bytes"),
    Target("app.voice.backends.decode_wav", decode_wav, (BackendError,), max_len=8192,
           no_encoder="resampling is lossy"),
]


# ----- seeds -------------------------------------------------------------------------------------

def _tone(n: int) -> np.ndarray[Any, Any]:
    t = np.arange(n) / 48_000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


def _opus_frames(count: int) -> list[bytes]:
    encoder = OpusEncoder()
    pcm = _tone(480 * count)
    return [encoder.encode(pcm[i * 480 : (i + 1) * 480]) for i in range(count)]


def _ogg(packets: list[bytes]) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48_000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 6) + b"hubbub" + struct.pack("<I", 0)
    pages = [_page(2, 0, 7, 0, head), _page(0, 0, 7, 1, tags)]
    pages += [_page(4 if i == len(packets) - 1 else 0, 480 * (i + 1), 7, i + 2, p) for i, p in enumerate(packets)]
    return b"".join(pages)


def _wav(pcm: np.ndarray[Any, Any], rate: int, channels: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wf:
        wf.setnchannels(channels)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(pcm.astype("<i2").tobytes())
    return out.getvalue()


def seeds() -> Seeds:
    frames = _opus_frames(6)
    packets = [VoicePacket(i, 480 * i, f, FLAG_SPEECH | (FLAG_FEC if i % 2 else 0)).to_bytes() for i, f in enumerate(frames)]
    dtx = VoicePacket(9, 480 * 9, frames[0][:2], FLAG_DTX).to_bytes()
    report = VoicePacket.loss_report(12).to_bytes()

    def stream(items: list[tuple[int, bytes]]) -> bytes:
        return b"".join(bytes((step,)) + struct.pack(">H", len(p)) + p for step, p in items)

    return {
        "app.voice.packet.parse": [("audio", packets[0]), ("fec", packets[1]), ("dtx", dtx), ("report", report)],
        "app.voice.receiver": [("in-order", stream([(10, p) for p in packets])),
                               ("reordered", stream([(4, packets[1]), (4, packets[0]), (30, packets[3]), (0, packets[2])])),
                               ("with-report", stream([(2, report), (10, packets[0]), (40, dtx)]))],
        "app.voice.live": [("voice-on", encode_live("voice", c="v1", on=True, m=True, d=False)),
                           ("voice-off", encode_live("voice", c="v1", on=False)),
                           ("ring", encode_live("call", k="ring", id="call-1")),
                           ("hangup", encode_live("call", k="hangup", id="call-1"))],
        "app.voice.oggopus.decode_ogg_opus": [("tone", _ogg(frames[:3])), ("headers-only", _ogg([]))],
        "app.voice.backends.decode_wav": [("mono-48k", _wav(_tone(480), 48_000, 1)),
                                          ("stereo-8k", _wav(_tone(160), 8_000, 2)),
                                          ("odd-rate", _wav(_tone(30), 11_025, 1))],
    }
