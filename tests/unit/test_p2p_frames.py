"""Wire frame codec: round trips, caps checked before decoding, and fuzzing that only FrameError escapes."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2p.errors import FrameError
from p2p.frames import (
    MAX_FRAME_SIZE,
    MAX_PAYLOAD_SIZE,
    MAX_SIGNAL_FRAME_SIZE,
    SCHEMA,
    VERSION,
    FrameType,
    decode_frame,
    encode_frame,
    stream_length,
    stream_prefix,
)


def test_round_trip_every_type() -> None:
    for frame_type, caps in SCHEMA.items():
        fields = tuple(bytes([i]) * min(cap, 7) for i, cap in enumerate(caps))
        frame = decode_frame(encode_frame(frame_type, *fields))
        assert frame.type is frame_type
        assert frame.fields == fields


def test_largest_payload_fits_and_one_more_byte_does_not() -> None:
    data = encode_frame(FrameType.DATA, b"r" * 64, b"x" * MAX_PAYLOAD_SIZE)
    assert len(data) <= MAX_FRAME_SIZE
    assert decode_frame(data).fields[1] == b"x" * MAX_PAYLOAD_SIZE
    with pytest.raises(FrameError):
        encode_frame(FrameType.DATA, b"", b"x" * (MAX_PAYLOAD_SIZE + 1))


def test_encoder_refuses_wrong_field_count() -> None:
    with pytest.raises(FrameError):
        encode_frame(FrameType.DATA, b"only one")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "shorter"),
        (b"\x01", "shorter"),
        (bytes([VERSION + 1, FrameType.PING]) + struct.pack(">I", 0), "version"),
        (bytes([VERSION, 0xEE]), "unknown frame type"),
        (bytes([VERSION, FrameType.PING]), "truncated"),
        (bytes([VERSION, FrameType.PING]) + struct.pack(">I", 17) + b"x" * 17, "cap"),
        (bytes([VERSION, FrameType.PING]) + struct.pack(">I", 5) + b"x", "past the end"),
        (bytes([VERSION, FrameType.PING]) + struct.pack(">I", 1) + b"xy", "trailing"),
    ],
)
def test_malformed_frames_raise_frame_error(data: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_frame(data)


def test_total_size_is_checked_before_anything_else() -> None:
    oversized = b"\xff" * (MAX_SIGNAL_FRAME_SIZE + 1)
    with pytest.raises(FrameError, match="exceeds"):
        decode_frame(oversized, max_size=MAX_SIGNAL_FRAME_SIZE)


def test_a_huge_field_length_is_refused_without_allocating() -> None:
    data = bytes([VERSION, FrameType.DATA]) + struct.pack(">I", 0xFFFFFFFF)
    with pytest.raises(FrameError, match="cap"):
        decode_frame(data)


def test_stream_length_prefix_caps() -> None:
    frame = encode_frame(FrameType.HELLO, b"k" * 32, b"n" * 32)
    assert stream_length(stream_prefix(frame)) == len(frame)
    with pytest.raises(FrameError):
        stream_length(struct.pack(">I", MAX_SIGNAL_FRAME_SIZE + 1))
    with pytest.raises(FrameError):
        stream_length(struct.pack(">I", 1))
    with pytest.raises(FrameError):
        stream_length(b"\x00\x00")


def test_non_bytes_input_is_a_frame_error() -> None:
    with pytest.raises(FrameError):
        decode_frame("text")  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_frame_error(data: bytes) -> None:
    try:
        decode_frame(data)
    except FrameError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(SCHEMA)),
    st.data(),
)
def test_mutated_valid_frames_raise_only_frame_error(frame_type: FrameType, data: st.DataObject) -> None:
    caps = SCHEMA[frame_type]
    fields = [data.draw(st.binary(max_size=min(cap, 40))) for cap in caps]
    encoded = bytearray(encode_frame(frame_type, *fields))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(encoded) - 1))
        encoded[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(encoded)))
    try:
        frame = decode_frame(bytes(encoded[:cut]))
    except FrameError:
        return
    assert len(frame.fields) == len(SCHEMA[frame.type])
