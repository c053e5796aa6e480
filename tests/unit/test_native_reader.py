"""The compiled readers (crdt/_native.pyx) agree with the Python reference on every input they take.

The rule they must keep: for any bytes, the compiled function returns None (the Python code then decides)
or exactly what the Python code returns. So each test feeds both the same generated entries, messages and
frames, and then the same bytes broken at random places, and compares.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from crdt import native
from crdt.content import ContentCheck, check_content
from crdt.entry import Entry, decode_entry, sign_entry
from crdt.errors import DecodeError, InvalidEntry
from crdt.schema import MAX_NAME, client_id, eid, short_id
from crdt.sync import EntriesReceived, _decode_entries, frames_for
from crdt.yjs_update import encode_insert_update
from tests.conftest import require

pytestmark = pytest.mark.usefixtures("_built")

KEY = SigningKey(b"\x07" * 32)
AUTHOR = bytes(KEY.verify_key)
WRITER = short_id(AUTHOR)
EXAMPLES = int(os.environ.get("HUBBUB_NATIVE_EXAMPLES", "300"))


@pytest.fixture
def _built() -> None:
    require(native.NATIVE, "crdt/_native.pyx is not built (pip install -e . builds it; it needs a C compiler)")


def _entry(seq: int, epoch: int, ndeps: int, ct: bytes | None, salt: int = 0, order: str = "sorted") -> Entry:
    deps = sorted(hashlib.blake2b(bytes((salt, i)), digest_size=32).digest() for i in range(ndeps))
    if order == "duplicated" and deps:
        deps = deps[:-1] + deps[:1] if len(deps) > 1 else deps + deps
        deps.sort()
    elif order == "reversed":
        deps.reverse()
    if order != "sorted" or epoch >= 2**31 or seq >= 2**62:  # an entry no writer makes: unsigned, built by hand
        e = Entry(b"\x01" * 32, AUTHOR, seq, b"\x02" * 32, epoch, tuple(deps), b"\x03" * 8,
                  hashlib.blake2b(ct or b"", digest_size=32).digest(), b"\x04" * 64, ct)
        return e
    e = sign_entry(KEY, room_id=b"\x01" * 32, seq=seq, prev=b"\x02" * 32, epoch=epoch, deps=tuple(deps),
                   nonce=b"\x03" * 8, ciphertext=ct if ct is not None else b"")
    return e.without_payload() if ct is None else e


def _same_entry(a: Entry, b: Entry) -> None:
    assert a == b
    assert a.header() == b.header() and a.hash == b.hash and a.encode() == b.encode()
    assert a.payload_intact() == b.payload_intact()


def _agree_entry(buf: bytes, pos: int = 0) -> bool:
    """Whether the compiled reader took the entry at `pos`; asserts it agrees with the Python one."""
    fast = native.fast_decode_entry(buf, pos)
    try:
        slow = decode_entry(buf, pos)
    except DecodeError as exc:
        assert fast is None, f"the compiled reader accepted what the reference refuses: {exc}"
        return False
    if fast is None:
        return False
    _same_entry(fast[0], slow[0])
    assert fast[1] == slow[1]
    return True


seqs = st.one_of(st.integers(0, 200), st.integers(0, 2**21), st.integers(0, 2**40),
                 st.sampled_from([127, 128, 16383, 16384, 2**56 - 1, 2**56, 2**62 - 1, 2**62]))
epochs = st.one_of(st.integers(0, 300), st.sampled_from([2**31 - 1, 2**31, 2**40]))
ciphertexts = st.one_of(st.none(), st.binary(max_size=300), st.integers(16_380, 16_500).map(lambda n: bytes(range(256)) * (n // 256) + b"c" * (n % 256)))


@settings(max_examples=EXAMPLES, deadline=None)
@given(seq=seqs, epoch=epochs, ndeps=st.integers(0, 4), ct=ciphertexts, salt=st.integers(0, 255),
       order=st.sampled_from(["sorted", "sorted", "duplicated", "reversed"]),
       edits=st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 255)), max_size=3), cut=st.integers(0, 40))
def test_entries_read_the_same(seq: int, epoch: int, ndeps: int, ct: bytes | None, salt: int, order: str,
                               edits: list[tuple[int, int]], cut: int) -> None:
    raw = _entry(seq, epoch, ndeps, ct, salt, order).encode()
    took = _agree_entry(raw)
    if order == "sorted" and seq < 2**56 and epoch < 2**31:
        assert took  # every entry a node writes takes the compiled path
    assert _agree_entry(b"junk" + raw + b"tail", 4) == took
    broken = bytearray(raw)
    for at, byte in edits:
        broken[at % len(broken)] = byte
    _agree_entry(bytes(broken[: max(0, len(broken) - cut)]))


def test_results_are_made_by_writing_their_slots() -> None:
    from crdt import _native  # type: ignore[attr-defined]

    assert _native.slots_written_directly()
    e, _end = native.fast_decode_entry(_entry(5, 0, 1, b"x").encode(), 0) or (None, 0)
    assert isinstance(e, Entry) and dataclasses.replace(e) == e and e.seq == 5 and e._intact is True


def test_a_tampered_payload_is_not_called_intact() -> None:
    raw = bytearray(_entry(5, 0, 1, b"secret words").encode())
    raw[-1] ^= 1
    fast = native.fast_decode_entry(bytes(raw), 0)
    assert fast is not None and not fast[0].payload_intact()


def test_non_minimal_varints_and_other_buffers_go_to_the_reference() -> None:
    raw = _entry(3, 0, 1, b"x").encode()
    padded = raw[:65] + bytes((0x83, 0x00)) + raw[66:]  # seq 3 as two bytes
    assert native.fast_decode_entry(padded, 0) is None
    with pytest.raises(DecodeError):
        decode_entry(padded)
    assert native.fast_decode_entry(bytearray(raw), 0) is None  # type: ignore[arg-type]
    assert native.fast_decode_entry(raw, -1) is None and native.fast_decode_entry(raw, len(raw)) is None


# ----- frames ------------------------------------------------------------------------------------

@settings(max_examples=max(50, EXAMPLES // 3), deadline=None)
@given(specs=st.lists(st.tuples(seqs.filter(lambda s: s < 2**62), st.integers(0, 3), ciphertexts), min_size=1, max_size=12),
       max_frame=st.integers(200, 40_000), edits=st.lists(st.tuples(st.integers(0, 200_000), st.integers(0, 255)), max_size=2))
def test_frames_pack_and_read_the_same(specs: list[tuple[int, int, bytes | None]], max_frame: int,
                                       edits: list[tuple[int, int]]) -> None:
    entries = [_entry(seq, 0, nd, ct, i) for i, (seq, nd, ct) in enumerate(specs)]
    frames = frames_for(entries, max_frame)
    assert frames == _without_native(lambda: frames_for(entries, max_frame), "fast_entries_frame", None)
    got = [e for f in frames for e in _decode_entries(f).entries]
    for a, b in zip(got, entries, strict=True):
        _same_entry(a, b)
    frame = bytearray(frames[0])
    for at, byte in edits:
        frame[at % len(frame)] = byte
    _agree_frame(bytes(frame))


def _agree_frame(frame: bytes) -> None:
    from crdt.varint import read_uint

    try:
        count, pos = read_uint(frame, 2)
    except DecodeError:
        return
    fast = native.fast_decode_entries(frame, pos, count, 1 << 20)
    try:
        slow: EntriesReceived | None = _python_entries(frame)
    except DecodeError:
        slow = None
    if fast is None:
        return
    assert slow is not None, "the compiled reader accepted a frame the reference refuses"
    for a, b in zip(fast, slow.entries, strict=True):
        _same_entry(a, b)


def _python_entries(frame: bytes) -> EntriesReceived:
    """crdt/sync.py `_decode_entries` with the compiled paths off."""
    return _without_native(lambda: _decode_entries(frame), "fast_decode_entries", native._none)


T = TypeVar("T")


def _without_native(run: Callable[[], T], name: str, off: Any) -> T:
    """`run()` with crdt/sync.py's compiled path `name` (and the one-entry reader) replaced by `off`."""
    import crdt.sync as sync

    names = (name, "fast_decode_entry")
    saved = [getattr(sync, n) for n in names]
    setattr(sync, name, off)
    setattr(sync, "fast_decode_entry", native._none)
    try:
        return run()
    finally:
        for n, f in zip(names, saved):
            setattr(sync, n, f)


# ----- message updates ---------------------------------------------------------------------------

def _no_owner(_client: int) -> None:
    return None


def _agree_message(e: Entry, body: bytes) -> bool:
    fast = native.fast_check_message(e, body, WRITER)
    try:
        slow: ContentCheck | None = check_content(e, body, WRITER, _no_owner)
    except (InvalidEntry, DecodeError) as exc:
        assert fast is None, f"the compiled checks accepted what the reference refuses: {exc}"
        return False
    except Exception:  # UnknownItem: a deletion of an unknown item (the compiled path never reads deletions)
        assert fast is None
        return False
    if fast is None:
        return False
    assert slow is not None
    assert (fast.need, fast.flags, fast.kind) == (slow.need, slow.flags, slow.kind)
    assert type(fast.ts) is float and (fast.ts == slow.ts or (math.isnan(fast.ts) and math.isnan(slow.ts or 0.0)))
    assert fast.summary.deletes == slow.summary.deletes == ()
    (a,), (b,) = fast.summary.inserts, slow.summary.inserts
    assert (a.client, a.clock, a.root, a.key) == (b.client, b.clock, b.root, b.key)
    assert list(a.value.items()) == list(b.value.items())
    assert [type(v) for v in a.value.values()] == [type(v) for v in b.value.values()]
    return True


stamps = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-70, 70), st.integers(-2**62, 2**62),
                   st.sampled_from([2.0**62, -2.0**62, 2.0**62 - 1024, float("nan")]),
                   st.text(max_size=3), st.none(), st.booleans())
extra = st.dictionaries(st.sampled_from(["r", "th", "ttl", "x", "c", "t"]), st.text(max_size=10), max_size=2)


names = st.text(max_size=12) | st.integers(MAX_NAME - 2, MAX_NAME + 2).map(lambda n: "é" * n)
texts = st.text(max_size=120) | st.text(min_size=120, max_size=300) | st.integers(15_998, 16_002).map(lambda n: "t" * n)



@settings(max_examples=EXAMPLES, deadline=None)
@given(seq=st.integers(0, 2**30), c=names, t=texts, ts=stamps, more=extra,
       root=st.sampled_from("mmmmerc"), own=st.booleans(),
       edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=3), cut=st.integers(0, 3))
def test_message_checks_agree(seq: int, c: str, t: str, ts: Any, more: dict[str, str], root: str, own: bool,
                              edits: list[tuple[int, int]], cut: int) -> None:
    e = _entry(seq, 0, 1, b"")
    client = client_id(WRITER, seq) if own else client_id(WRITER, seq + 1)
    value = {"c": c, "t": t, "ts": ts, **more}
    body = encode_insert_update(client, root, eid(AUTHOR, seq), value)
    took = _agree_message(e, body)
    if own and root == "m" and not more and type(ts) is float and not math.isnan(ts) and abs(ts) < 2**62 \
            and len(c) <= MAX_NAME and len(c.encode()) < 128 and len(t) <= 16_000:
        assert took  # the usual message takes the compiled path
    broken = bytearray(body)
    for at, byte in edits:
        broken[at % len(broken)] = byte
    _agree_message(e, bytes(broken[: len(broken) - cut]))
    _agree_message(dataclasses.replace(e, seq=seq + 1), body)  # someone else's key and client id


def test_a_message_under_another_authors_key_is_refused_by_both() -> None:
    e = _entry(9, 0, 1, b"")
    body = encode_insert_update(client_id(WRITER, 9), "m", "AAAAAAAA9", {"c": "g", "t": "hi", "ts": 1.5})
    assert native.fast_check_message(e, body, WRITER) is None
    with pytest.raises(InvalidEntry):
        check_content(e, body, WRITER, _no_owner)


@pytest.mark.parametrize("value, taken", [
    ({"c": "é" * MAX_NAME, "t": "t" * 16_000, "ts": 1.5}, True),
    ({"c": "é" * (MAX_NAME + 1), "t": "hi", "ts": 1.5}, False),
    ({"c": "g", "t": "t" * 16_001, "ts": 1.5}, False),
    ({"c": "g", "t": "hi", "ts": float("nan")}, False),
    ({"c": "g", "t": "hi", "ts": float("inf")}, False),
    ({"c": "g", "t": "hi", "ts": 2.0**62}, False),
    ({"c": "g", "t": "hi", "ts": 2.0**62 - 1024}, True),
    ({"c": "g", "t": "hi", "ts": 63}, True),
    ({"c": "g", "t": "hi", "ts": True}, False),
    ({"c": "g", "t": "hi", "ts": 1.5, "r": "not an id"}, False),
    ({"c": "g", "t": "hi", "ts": 1.5, "x": "harmless"}, False),  # valid, but the Python checks decide
    ({"t": "hi", "ts": 1.5, "c": "g"}, True),
])
def test_the_edges_of_a_message(value: dict[str, Any], taken: bool) -> None:
    e = _entry(77, 0, 1, b"")
    body = encode_insert_update(client_id(WRITER, 77), "m", eid(AUTHOR, 77), value)
    assert _agree_message(e, body) == taken


SAMPLE_BYTES = (0, 1, 2, 0x28, 0x76, 0x7F, 0x80, 0xFF)


@pytest.mark.parametrize("text", ["hello there", "a longer message, " * 10])
def test_every_single_byte_change_of_a_message_reads_the_same(text: str) -> None:
    e = _entry(300, 0, 1, b"")
    body = encode_insert_update(client_id(WRITER, 300), "m", eid(AUTHOR, 300), {"c": "general", "t": text, "ts": 1.5e12})
    assert _agree_message(e, body)
    for at in range(len(body)):
        for byte in (*SAMPLE_BYTES, body[at] ^ 1, (body[at] + 1) % 256):
            _agree_message(e, body[:at] + bytes((byte,)) + body[at + 1:])
        _agree_message(e, body[:at])
        _agree_message(e, body[:at] + body[at + 1:])


def test_every_single_byte_change_of_an_entry_reads_the_same() -> None:
    raw = _entry(20_000, 3, 2, b"ciphertext" * 20).encode()
    assert _agree_entry(raw)
    for at in range(len(raw)):
        for byte in (*SAMPLE_BYTES, raw[at] ^ 1):
            _agree_entry(raw[:at] + bytes((byte,)) + raw[at + 1:])
        _agree_entry(raw[:at])


# ----- a whole sync, with and without the compiled paths -----------------------------------------

def _replica_after_sync(source: Any, room_id: bytes, key: bytes, pure: bool) -> tuple[Any, list[bytes]]:
    import crdt.linking as linking
    import crdt.sync as sync
    from crdt.room import RoomLog

    names = [(sync, "fast_decode_entries", native._none), (sync, "fast_decode_entry", native._none),
             (sync, "fast_entries_frame", None), (linking, "fast_check_message", native._none)]
    saved = [getattr(m, n) for m, n, _ in names]
    if pure:
        for m, n, off in names:
            setattr(m, n, off)
    try:
        replica = RoomLog(room_id, {room_id: key})
        theirs, ours = sync.SyncProtocol(sync.MemorySource()), sync.SyncProtocol(source)
        theirs.open()
        for frame in theirs.data_to_send():
            ours.receive(frame)
        sent: list[bytes] = []
        while ours.has_data():
            for frame in ours.data_to_send():
                sent.append(frame)
                event = theirs.receive(frame)
                if isinstance(event, sync.EntriesReceived):
                    replica.ingest(event.entries)
        return replica, sent
    finally:
        for (m, n, _), f in zip(names, saved):
            setattr(m, n, f)


def test_a_sync_ends_the_same_with_and_without_the_compiled_paths() -> None:
    from pycrdt import Map

    from crdt.schema import CHANNELS, DELETES, EDITS, MESSAGES, REACTIONS, ROOTS
    from bench.crdt import make_room

    room, source, writers, key = make_room(600)
    for i in range(60):  # the other kinds of content, which the compiled checks hand to the Python ones
        w = writers[i % len(writers)]
        target, result = room.write_value(w, MESSAGES, {"c": "general", "t": f"note {i}", "ts": 1.0 + i, "mn": ["x"]})
        source.add(result.accepted)
        for root, value in ((EDITS, {"m": target, "t": "edited", "ts": 2.0}), (REACTIONS, {"m": target, "e": "👍"}),
                            (DELETES, {"m": target, "ts": 3.0})):
            if i % 3 == ROOTS.index(root) % 3:
                source.add(room.write_value(w, root, value)[1].accepted)
    source.add(room.write_value(writers[0], CHANNELS, {"id": "c2", "n": "two", "k": "text", "ts": 5})[1].accepted)
    fast, fast_frames = _replica_after_sync(source, room.room_id, key, pure=False)
    slow, slow_frames = _replica_after_sync(source, room.room_id, key, pure=True)
    assert fast_frames == slow_frames
    assert fast.entry_count == slow.entry_count == sum(len(c) for c in source.by_author.values())
    for root in ROOTS:
        assert fast.doc.get(root, type=Map).to_py() == slow.doc.get(root, type=Map).to_py()
    assert {a: bytes(m.flags) for a, m in fast.meta.items()} == {a: bytes(m.flags) for a, m in slow.meta.items()}
