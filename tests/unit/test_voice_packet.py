"""The voice packet format: round trips, wraparound arithmetic, and hostile bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.voice.engine import VoiceReceiver
from app.voice.packet import (
    FLAG_DTX,
    FLAG_FEC,
    FLAG_SPEECH,
    HEADER_SIZE,
    MAX_PACKET,
    MAX_PAYLOAD,
    PacketError,
    VoicePacket,
    seq_diff,
    ts_diff,
)


@given(
    seq=st.integers(0, 65535),
    ts=st.integers(0, 2**32 - 1),
    flags=st.sampled_from([0, FLAG_DTX, FLAG_FEC | FLAG_SPEECH, FLAG_DTX | FLAG_SPEECH]),
    payload=st.binary(max_size=MAX_PAYLOAD),
)
def test_round_trip(seq: int, ts: int, flags: int, payload: bytes) -> None:
    pkt = VoicePacket(seq, ts, payload, flags)
    data = pkt.to_bytes()
    assert len(data) == HEADER_SIZE + len(payload) <= MAX_PACKET
    assert VoicePacket.parse(data) == pkt


@given(st.binary(max_size=2 * MAX_PACKET))
def test_arbitrary_bytes_only_raise_packet_error(data: bytes) -> None:
    try:
        pkt = VoicePacket.parse(data)
    except PacketError:
        return
    assert pkt.to_bytes() == data  # whatever parses is exactly what it encodes back to


@given(st.binary(max_size=300))
def test_receiver_survives_garbage(data: bytes) -> None:
    rx = VoiceReceiver()
    rx.receive("mallory", data, 0.0)
    frame = rx.pull(0.01)
    assert frame.shape == (480,)


def test_rejections() -> None:
    good = VoicePacket(1, 480, b"\xfc\x00").to_bytes()
    with pytest.raises(PacketError):
        VoicePacket.parse(good[:HEADER_SIZE - 1])
    with pytest.raises(PacketError):
        VoicePacket.parse(bytes([2]) + good[1:])  # version
    with pytest.raises(PacketError):
        VoicePacket.parse(good[:1] + bytes([0x40]) + good[2:])  # unknown flag
    with pytest.raises(PacketError):
        VoicePacket.parse(good + bytes(MAX_PAYLOAD))  # oversize
    with pytest.raises(PacketError):
        VoicePacket(70000, 0, b"").to_bytes()
    with pytest.raises(PacketError):
        VoicePacket(0, 0, bytes(MAX_PAYLOAD + 1)).to_bytes()


def test_loss_report() -> None:
    pkt = VoicePacket.parse(VoicePacket.loss_report(7.4).to_bytes())
    assert pkt.report and pkt.reported_loss == 7
    with pytest.raises(PacketError):
        VoicePacket.parse(VoicePacket(0, 0, bytes([101]), 0x80).to_bytes())


def test_wraparound_arithmetic() -> None:
    assert seq_diff(0, 65535) == 1
    assert seq_diff(65535, 0) == -1
    assert seq_diff(10, 5) == 5
    assert ts_diff(100, 2**32 - 380) == 480
    assert ts_diff(2**32 - 380, 100) == -480
