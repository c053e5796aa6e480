"""The chunk protocol's frames and the p2p stream messages (strict decoders), and a download plan across sources."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.files import protocol
from app.files.chunks import chunk_id
from app.files.protocol import Chunk, FileProtocolError, HashList, Have, HaveQuery, ListQuery, Nope, Want
from app.files.schedule import DownloadPlan
from p2p import stream_frames
from p2p.stream_frames import Accept, Close, Credit, Data, Fallback, Open, Refuse, StreamFrameError

R, H = b"r" * 32, b"h" * 32


def test_chunk_frames_round_trip() -> None:
    frames = [HaveQuery(R, H), Have(H, bytes([1, 0, 1, 1, 0, 0, 0, 0, 1])), Have(H, b""), ListQuery(R, H),
              HashList(H, b"i" * 64), Want(R, H, 7), Chunk(H, 3, b"s" * 40), Nope(H, 2, protocol.NOT_ALLOWED)]
    for frame in frames:
        assert protocol.decode(protocol.encode(frame)) == frame


@pytest.mark.parametrize("data", [
    b"", b"\x00", b"\x09" + R + H, b"\x01" + R, b"\x02" + H + b"\x00\x00\x00\x09\xff",  # bits past the count
    b"\x02" + H + b"\xff\xff\xff\xff", b"\x04" + H + b"x" * 31, b"\x05" + R + H + b"\xff\xff\xff\xff",
    b"\x07" + H + b"\x00\x00\x00\x01\x09", b"\x06" + H + b"\x00" * 4 + b"short", b"\x06" * (protocol.MAX_FRAME + 1)])
def test_bad_chunk_frames_are_refused(data: bytes) -> None:
    with pytest.raises(FileProtocolError):
        protocol.decode(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_the_chunk_decoder_raises_only_its_error(data: bytes) -> None:
    try:
        protocol.decode(data)
    except FileProtocolError:
        pass


def test_stream_messages_round_trip() -> None:
    sid = os.urandom(16)
    frames = [Open(sid, b"e" * 32, b"s" * 64), Accept(sid, b"e" * 32, 4242, ("10.0.0.1", "fe80::1"), b"s" * 64),
              Accept(sid, b"e" * 32, 0, (), b"s" * 64), Refuse(sid, "too many"), Fallback(sid),
              Data(sid, True, b"abc"), Data(sid, False, b""), Credit(sid, 1 << 20), Close(sid, "")]
    for frame in frames:
        assert stream_frames.decode(stream_frames.encode(frame)) == frame


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_the_stream_decoder_raises_only_its_error(data: bytes) -> None:
    try:
        stream_frames.decode(bytes([2]) + data)  # ACCEPT has the most structure
        stream_frames.decode(data)
    except StreamFrameError:
        pass


def test_a_bad_address_in_an_accept_is_refused() -> None:
    raw = stream_frames.encode(Accept(b"s" * 16, b"e" * 32, 1, ("10.0.0.1",), b"g" * 64)).replace(b"10.0.0.1", b"10.0.0.x")
    with pytest.raises(StreamFrameError):
        stream_frames.decode(raw)


def sealed_chunks(n: int) -> list[bytes]:
    return [os.urandom(100) for _ in range(n)]


def test_plan_spreads_chunks_over_sources_and_refetches_a_tampered_one_from_another() -> None:
    chunks = sealed_chunks(6)
    ids = [chunk_id(c) for c in chunks]
    plan = DownloadPlan(ids, 6 * 100, held=[0], window=2)
    a, b = b"A" * 32, b"B" * 32
    plan.add_source(a, bytes([1] * 6))
    plan.add_source(b, bytes([1] * 6))
    asked_a, asked_b = plan.next_wants(a), plan.next_wants(b)
    assert len(asked_a) == len(asked_b) == 2 and not set(asked_a) & set(asked_b) and 0 not in asked_a + asked_b
    # A sends a tampered copy of its first chunk: rejected, counted, and asked of B instead.
    first = asked_a[0]
    tampered = bytearray(chunks[first])
    tampered[0] ^= 1
    verdict = plan.check(a, first, chunk_id(bytes(tampered)))
    assert not verdict.ok and "does not match" in verdict.reason and plan.sources[a].strikes == 1
    for i in asked_b:
        assert plan.check(b, i, chunk_id(chunks[i])).ok
        plan.stored(b, i)
    assert first in plan.next_wants(b)
    assert first not in plan.next_wants(a)  # it never asks A for that chunk again


def test_a_dropped_source_leaves_its_chunks_to_the_others_and_a_plan_without_holders_is_stuck() -> None:
    chunks = sealed_chunks(4)
    ids = [chunk_id(c) for c in chunks]
    plan = DownloadPlan(ids, 400, window=4)
    a, c = b"A" * 32, b"C" * 32
    plan.add_source(a, bytes([1, 1, 1, 1]))
    plan.add_source(c, bytes([0, 0, 1, 1]))
    assert sorted(plan.next_wants(a)) == [0, 1, 2, 3]
    assert plan.next_wants(c) == []
    back = plan.drop_source(a)
    assert back == {0, 1, 2, 3}
    assert sorted(plan.next_wants(c)) == [2, 3]
    assert plan.stuck()  # chunks 0 and 1: nobody online holds them now
    plan.add_source(a, bytes([1, 1, 0, 0]))
    assert not plan.stuck() and sorted(plan.next_wants(a)) == [0, 1]
    for peer, i in ((a, 0), (a, 1), (c, 2), (c, 3)):
        assert plan.check(peer, i, ids[i]).ok
        plan.stored(peer, i)
    assert plan.complete and plan.done_bytes == 400


def test_an_unasked_chunk_is_refused_and_a_refusal_moves_the_chunk() -> None:
    chunks = sealed_chunks(2)
    ids = [chunk_id(c) for c in chunks]
    plan = DownloadPlan(ids, 200, window=2)
    a, b = b"A" * 32, b"B" * 32
    plan.add_source(a, bytes([1, 1]))
    plan.add_source(b, bytes([1, 1]))
    assert not plan.check(b, 0, ids[0]).ok  # never asked
    i = plan.next_wants(a)[0]
    plan.refused(a, i)
    assert i in plan.next_wants(b)
