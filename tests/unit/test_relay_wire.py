"""The relay's wire codec: round trips, bounds checked before slicing, canonical, and only WireError escapes."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2p.relay.wire import (
    HEADER,
    MAX_FRAME,
    SHAPES,
    Kind,
    WireError,
    decode,
    encode,
    error,
    read_u64,
    u64,
)


def sample(kind: Kind) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    shape = SHAPES[kind]
    fields = tuple(bytes([i + 1]) * lo if lo else bytes([i + 1]) * min(hi, 3) for i, (lo, hi) in enumerate(shape.fields))
    items: tuple[bytes, ...] = ()
    if shape.item is not None:
        lo, hi = shape.item
        items = tuple(bytes([0x70 + j]) * max(lo, min(hi, 9)) for j in range(3))
    return fields, items


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_round_trips(kind: Kind) -> None:
    fields, items = sample(kind)
    data = encode(kind, 77, *fields, items=items)
    frame = decode(data)
    assert (frame.kind, frame.request, frame.fields, frame.items) == (kind, 77, fields, items)
    assert encode(frame.kind, frame.request, *frame.fields, items=frame.items) == data


def test_exact_sizes_are_enforced_both_ways() -> None:
    with pytest.raises(WireError):
        encode(Kind.FORWARD, 0, b"t" * 15, b"h" * 16, b"p")
    good = encode(Kind.FORWARD, 0, b"t" * 16, b"h" * 16, b"p")
    bad = bytearray(good)
    struct.pack_into(">I", bad, HEADER.size, 15)  # claims a 15-byte token
    with pytest.raises(WireError, match="allowed 16..16"):
        decode(bytes(bad))


def test_size_is_checked_before_anything_else() -> None:
    with pytest.raises(WireError, match="exceeds"):
        decode(b"\x01" * (MAX_FRAME + 1))
    with pytest.raises(WireError, match="exceeds 100"):
        decode(encode(Kind.SUBSCRIBE, 0, items=[b"t" * 16] * 8), max_size=100)


def test_a_length_past_the_end_is_refused_without_slicing() -> None:
    data = HEADER.pack(1, Kind.PUT, 1) + struct.pack(">I", 32) + b"a" * 32 + struct.pack(">I", 200_000) + b"x"
    with pytest.raises(WireError, match="runs past the end"):
        decode(data)


def test_too_many_items_trailing_bytes_version_and_type() -> None:
    many = HEADER.pack(1, Kind.SUBSCRIBE, 0) + (struct.pack(">I", 16) + b"t" * 16) * 257
    with pytest.raises(WireError, match="more than 256 items"):
        decode(many)
    with pytest.raises(WireError, match="trailing"):
        decode(encode(Kind.TURN, 0) + b"\x00")
    with pytest.raises(WireError, match="version"):
        decode(b"\x02" + encode(Kind.TURN, 0)[1:])
    with pytest.raises(WireError, match="unknown"):
        decode(HEADER.pack(1, 0x7F, 0))
    with pytest.raises(WireError, match="bytes"):
        decode("text")  # type: ignore[arg-type]


def test_error_frames_cut_long_sentences_on_a_character_boundary() -> None:
    frame = decode(error(3, "quota", "é" * 300))
    assert frame.kind is Kind.ERROR and len(frame.fields[1]) <= 256
    frame.fields[1].decode("utf-8")
    assert read_u64(u64(2**40 + 5)) == 2**40 + 5


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_wire_errors(data: bytes) -> None:
    try:
        frame = decode(data)
    except WireError:
        return
    assert encode(frame.kind, frame.request, *frame.fields, items=frame.items) == data


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Kind)), st.data())
def test_mutated_valid_frames_raise_only_wire_errors(kind: Kind, data: st.DataObject) -> None:
    fields, items = sample(kind)
    frame = bytearray(encode(kind, 1, *fields, items=items))
    for _ in range(data.draw(st.integers(1, 4))):
        frame[data.draw(st.integers(0, len(frame) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(frame)))
    try:
        decoded = decode(bytes(frame[:cut]))
    except WireError:
        return
    assert encode(decoded.kind, decoded.request, *decoded.fields, items=decoded.items) == bytes(frame[:cut])
