"""Entries round-trip, and every decoder of hostile bytes fails only with DecodeError (or a FrameRejected event)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from crdt.control import ControlOp
from crdt.entry import NO_HASH, NONCE_SIZE, Entry, decode_entry, decode_one, digest, sign_entry
from crdt.errors import DecodeError
from crdt.logfile import MAGIC, read_log, write_log
from crdt.room import KIND_CONTROL, KIND_YJS
from crdt.schema import MESSAGES, client_id, eid
from crdt.sync import EntriesReceived, FrameRejected, HeadsReceived, WantReceived, decode_frame, encode_entries, encode_heads, frames_for
from crdt.yjs_update import summarize_update
from tests.helpers import add_member, craft_entry, doc_state, new_room, post, pub, short, yjs_insert

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEY = SigningKey(bytes(range(32)))


def _entry(ciphertext: bytes = b"payload", seq: int = 3, deps: tuple[bytes, ...] = (b"d" * 32,)) -> Entry:
    return sign_entry(KEY, room_id=b"r" * 32, seq=seq, prev=b"p" * 32, epoch=2, deps=deps, nonce=b"n" * NONCE_SIZE, ciphertext=ciphertext)


SAMPLE = _entry().encode()


# ----- round trip ---------------------------------------------------------------------------------


@given(seq=st.integers(0, (1 << 62) - 1), epoch=st.integers(0, (1 << 31) - 1), ct=st.binary(max_size=300),
       deps=st.lists(st.binary(min_size=32, max_size=32), max_size=16))
@settings(max_examples=50, deadline=None)
def test_encode_decode_round_trip(seq: int, epoch: int, ct: bytes, deps: list[bytes]) -> None:
    e = sign_entry(KEY, room_id=b"r" * 32, seq=seq, prev=b"p" * 32, epoch=epoch, deps=tuple(sorted(set(deps))),
                   nonce=b"n" * NONCE_SIZE, ciphertext=ct)
    raw = e.encode()
    back = decode_one(raw)
    assert back == e
    assert back.hash == e.hash
    assert back.signature_valid() and back.payload_intact()
    # decode_entry reads one entry out of a longer buffer
    got, end = decode_entry(raw + b"tail", 0)
    assert got == e and end == len(raw)


def test_unsorted_or_repeated_deps_are_refused() -> None:
    for deps in ((b"b" * 32, b"a" * 32), (b"a" * 32, b"a" * 32)):
        raw = sign_entry(KEY, room_id=b"r" * 32, seq=1, prev=b"p" * 32, epoch=0, deps=deps, nonce=b"n" * NONCE_SIZE,
                         ciphertext=b"x").encode()
        with pytest.raises(DecodeError, match="not sorted"):
            decode_one(raw)


def test_padded_varints_are_refused() -> None:
    """A header whose sequence number is padded (0x83 0x00 for 3) would be stored and served re-encoded,
    failing its signature downstream: it must not decode at all."""
    e = _entry(seq=3)
    raw = e.encode()
    at = 1 + 64  # version, room id, author: then the seq varint
    assert raw[at] == 3
    padded = raw[:at] + bytes((0x83, 0x00)) + raw[at + 1 :]
    with pytest.raises(DecodeError, match="minimal"):
        decode_one(padded)


def test_redacted_entry_round_trips_and_still_verifies() -> None:
    e = _entry(b"secret text")
    r = e.without_payload()
    back = decode_one(r.encode())
    assert back.ciphertext is None and back.redacted
    assert back.hash == e.hash
    assert back.signature_valid() and back.payload_intact()
    assert len(r.encode()) < len(e.encode())


def test_signature_and_payload_checks_catch_changes() -> None:
    e = _entry()
    assert e.payload_hash == digest(b"payload")
    assert not replace(e, seq=4).signature_valid()
    assert not replace(e, author=bytes(SigningKey.generate().verify_key)).signature_valid()
    assert not replace(e, ciphertext=b"Payload").payload_intact()
    assert replace(e, ciphertext=b"Payload").signature_valid()  # the header is untouched
    assert not replace(e, signature=bytes(64)).signature_valid()
    assert not replace(e, author=b"\x00" * 31 + b"\x01").signature_valid()  # not a valid point: False, no raise


def test_entry_ids_differ_for_different_entries() -> None:
    assert _entry(b"a").hash != _entry(b"b").hash
    assert _entry(seq=1).hash != _entry(seq=2).hash


@pytest.mark.parametrize("raw,problem", [
    (b"", "empty"),
    (b"\x02" + SAMPLE[1:], "version"),
    (SAMPLE[:40], "truncated"),
    (SAMPLE[:-1], "truncated"),
    (SAMPLE + b"x", "trailing"),
])
def test_decode_one_reports_malformed_input(raw: bytes, problem: str) -> None:
    with pytest.raises(DecodeError, match=problem):
        decode_one(raw)


def test_an_entry_cut_off_anywhere_changes_nothing_decoded_after_it() -> None:
    """Decoding shares the room id, author and dependency objects of consecutive entries: a cut-off one,
    wherever it is cut, must leave no partial value behind for the next entry to pick up."""
    other = _entry(b"next", seq=9, deps=(b"e" * 32,))
    whole = other.encode()
    for cut in range(len(SAMPLE)):
        with pytest.raises(DecodeError):
            decode_one(SAMPLE[:cut])
        back = decode_one(whole)
        assert back == other and back.deps == (b"e" * 32,) and back.encode() == whole, cut


def test_decode_caps_sizes_before_reading() -> None:
    too_many_deps = _entry(deps=tuple(bytes([i]) * 32 for i in range(65)))
    with pytest.raises(DecodeError, match="dependencies"):
        decode_one(too_many_deps.encode())
    from crdt.entry import MAX_CIPHERTEXT

    huge = _entry(b"x" * (MAX_CIPHERTEXT + 1)).encode()
    with pytest.raises(DecodeError, match="too large"):
        decode_one(huge)


# ----- hostile bytes ---------------------------------------------------------------------------------------


def _mutations(base: bytes) -> st.SearchStrategy[bytes]:
    """Valid input with bytes flipped, cut off or spliced: reaches deeper than random noise."""
    flips = st.lists(st.tuples(st.integers(0, max(0, len(base) - 1)), st.integers(1, 255)), min_size=1, max_size=4)

    def flip(changes: list[tuple[int, int]]) -> bytes:
        out = bytearray(base)
        for i, x in changes:
            out[i] ^= x
        return bytes(out)

    return st.one_of(
        flips.map(flip),
        st.integers(0, len(base)).map(lambda n: base[:n]),
        st.tuples(st.integers(0, len(base)), st.binary(max_size=40)).map(lambda t: base[:t[0]] + t[1] + base[t[0]:]),
    )


def _assert_decodes_or_decode_error(fn, raw: bytes) -> None:
    try:
        fn(raw)
    except DecodeError:
        pass


@FUZZ
@given(raw=st.one_of(st.binary(max_size=400), _mutations(SAMPLE)))
def test_entry_decoders_raise_only_decode_error(raw: bytes) -> None:
    _assert_decodes_or_decode_error(decode_one, raw)
    _assert_decodes_or_decode_error(lambda b: decode_entry(b, 0), raw)


_UPDATE = yjs_insert(MESSAGES, "AAAAAAAA1", {"c": "general", "t": "hello", "ts": 1.5, "mn": ["x"], "f": {"a": [1, True, None]}},
                     client_id("AAAAAAAA", 1))


@FUZZ
@given(raw=st.one_of(st.binary(max_size=400), _mutations(_UPDATE)))
def test_summarize_update_raises_only_decode_error(raw: bytes) -> None:
    _assert_decodes_or_decode_error(summarize_update, raw)


def test_summarize_update_reads_a_real_update() -> None:
    s = summarize_update(_UPDATE)
    assert len(s.inserts) == 1 and s.deletes == ()
    item = s.inserts[0]
    assert (item.client, item.clock, item.root, item.key) == (client_id("AAAAAAAA", 1), 0, MESSAGES, "AAAAAAAA1")
    assert item.value == {"c": "general", "t": "hello", "ts": 1.5, "mn": ["x"], "f": {"a": [1, True, None]}}


_FRAMES = [encode_heads({b"a" * 32: 5, b"b" * 32: 0}, {b"a" * 32: b"h" * 16}), frames_for([_entry(), _entry(seq=4)])[0]]


@FUZZ
@given(raw=st.one_of(st.binary(max_size=400), _mutations(_FRAMES[0]), _mutations(_FRAMES[1])))
def test_decode_frame_never_raises(raw: bytes) -> None:
    event = decode_frame(raw)
    assert isinstance(event, (HeadsReceived, EntriesReceived, WantReceived, FrameRejected))
    if not isinstance(event, FrameRejected) and raw[:1] == bytes((2,)):
        # canonical: what decodes re-encodes to the same bytes
        if isinstance(event, EntriesReceived):
            assert encode_entries([e.encode() for e in event.entries]) == raw


def test_decode_frame_rejects_oversized_frames() -> None:
    assert isinstance(decode_frame(_FRAMES[1], max_frame=len(_FRAMES[1]) - 1), FrameRejected)
    assert isinstance(decode_frame(_FRAMES[1], max_frame=len(_FRAMES[1])), EntriesReceived)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode),
                     _mutations(ControlOp("add", {"member": "ab" * 32, "role": "member", "x": [1, {"y": None}]}).encode())))
def test_control_op_decode_raises_only_decode_error(raw: bytes) -> None:
    _assert_decodes_or_decode_error(ControlOp.decode, raw)


@pytest.mark.parametrize("raw", [b"[" * 50_000, b"[" * 30_000 + b"]" * 30_000])
def test_control_op_decode_deep_nesting(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        ControlOp.decode(raw)


@pytest.fixture(scope="module")
def log_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    owner, member = SigningKey.generate(), SigningKey.generate()
    room, genesis, key = new_room(owner)
    entries = [genesis, *add_member(room, owner, member).accepted]
    entries += room.write_value(member, MESSAGES, {"c": "general", "t": "hello", "ts": 1.0})[1].accepted
    path = tmp_path_factory.mktemp("log") / "room.hubbub"
    write_log(path, room.room_id, "room", {room.room_id: key}, entries)
    parsed = read_log(path.read_bytes())
    assert [e.hash for e in parsed.entries] == [e.hash for e in entries]
    return path.read_bytes()


@FUZZ
@given(data=st.data())
def test_read_log_raises_only_decode_error(data: st.DataObject, log_bytes: bytes) -> None:
    raw = data.draw(st.one_of(st.binary(max_size=300), st.binary(max_size=200).map(lambda b: MAGIC + b), _mutations(log_bytes)))
    try:
        parsed = read_log(raw)
    except DecodeError:
        return
    assert parsed.bad_frames >= 0


def test_read_log_reads_what_write_log_wrote(tmp_path) -> None:
    entries = [_entry(b"one", seq=0), _entry(b"two", seq=1)]
    path = tmp_path / "x.log"
    size = write_log(path, b"r" * 32, "name", {b"0" * 32: b"k" * 32, b"1" * 32: b"K" * 32}, entries)
    assert path.stat().st_size == size
    assert (path.stat().st_mode & 0o777) == 0o600
    parsed = read_log(path.read_bytes())
    assert (parsed.room_id, parsed.name, parsed.keys, parsed.entries, parsed.bad_frames) == (
        b"r" * 32, "name", {b"0" * 32: b"k" * 32, b"1" * 32: b"K" * 32}, entries, 0)


# ----- hostile payloads inside validly signed entries ----------------------------------------------------------


OWNER = SigningKey(bytes([1]) * 32)
MEMBER = SigningKey(bytes([2]) * 32)
# The member's first entry in a fresh room: fixed bytes, so hypothesis sees the same strategy every time.
GOOD_UPDATE = yjs_insert(MESSAGES, eid(pub(MEMBER), 0), {"c": "general", "t": "ok", "ts": 2.0}, client_id(short(MEMBER), 0))


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_ingest_never_raises_on_hostile_payloads(data: st.DataObject) -> None:
    """A member may sign anything; whatever the plaintext, ingest decides without raising and a rejection applies nothing."""
    room, _, _ = new_room(OWNER)
    add_member(room, OWNER, MEMBER)
    member = MEMBER
    good = GOOD_UPDATE
    kind = data.draw(st.sampled_from([KIND_YJS, KIND_CONTROL, 5]))
    body = data.draw(st.one_of(st.binary(max_size=200), _mutations(good),
                               _mutations(ControlOp("name", {"name": "x"}).encode())))
    e = craft_entry(room, member, kind, body)
    before = doc_state(room.doc)
    result = room.ingest([e])
    if kind == KIND_YJS and body == good:
        assert result.accepted == [e] and room.maps[MESSAGES][eid(pub(member), 0)]["t"] == "ok"
    if not result.accepted or result.void:
        assert doc_state(room.doc) == before
        assert result.rejected or room.pending or result.void


def test_genesis_check_uses_no_hash_room() -> None:
    owner = SigningKey.generate()
    _, genesis, _ = new_room(owner)
    assert genesis.room_id == NO_HASH and genesis.seq == 0 and genesis.deps == ()
