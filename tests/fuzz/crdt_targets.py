"""Fuzz targets for crdt/: entries, sync frames, the log file, control operations, Yjs updates, ciphers."""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
from pathlib import Path
from typing import Any

from crdt.cipher import open_payload, open_sealed, seal_payload
from crdt.control import ControlOp, ControlState, Invite, Member, apply_op, key_commitment, parse_op
from crdt.entry import NO_HASH, Entry, decode_entry, decode_one, sign_entry
from crdt.errors import DecodeError
from crdt.logfile import read_log, write_log
from crdt.content import ContentCheck, UnknownItem, check_content
from crdt.errors import InvalidEntry
from crdt.native import fast_check_message, fast_decode_entry
from crdt.schema import Role, client_id, eid, required_role, short_id, value_problem
from crdt.sync import (EntriesReceived, FrameRejected, HeadsReceived, WantReceived, decode_frame, encode_entries,
                        encode_heads, encode_want)
from crdt.yjs_update import UpdateSummary, encode_delete_update, encode_insert_update, summarize_update

from .fixtures import ADMIN, MEMBER, ME, OWNER, ROOM_ID, ROOM_KEY, blob, pub, sealed_to
from .harness import Target, same

Seeds = dict[str, list[tuple[str, bytes]]]


def _fresh(entry: Entry) -> bytes:
    """The entry encoded from its fields (not from the header bytes cached at decode time)."""
    return dataclasses.replace(entry).encode()


# ----- entries -----------------------------------------------------------------------------------

def _decode_prefix(data: bytes) -> tuple[Entry, bytes]:
    entry, end = decode_entry(data)
    return entry, data[end:]


def _entry_equal(a: Any, b: Any) -> bool:
    return _fresh(a[0] if isinstance(a, tuple) else a) == _fresh(b[0] if isinstance(b, tuple) else b)


# ----- sync frames -------------------------------------------------------------------------------

def _encode_sync(event: Any) -> bytes:
    if isinstance(event, HeadsReceived):
        return encode_heads(event.heads, event.hashes, event.last)
    if isinstance(event, WantReceived):
        return encode_want(event.wants)
    assert isinstance(event, EntriesReceived)
    return encode_entries([_fresh(e) for e in event.entries])


def _sync_equal(a: Any, b: Any) -> bool:
    if isinstance(a, EntriesReceived) and isinstance(b, EntriesReceived):
        return [_fresh(e) for e in a.entries] == [_fresh(e) for e in b.entries]
    return bool(a == b)


# ----- log file ----------------------------------------------------------------------------------

_SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())


def _encode_log(log: Any) -> bytes:
    fd, name = tempfile.mkstemp(prefix="hubbub-fuzz-", dir=_SCRATCH)
    os.close(fd)
    path = Path(name)
    try:
        path.unlink()
        write_log(path, log.room_id, log.name, log.keys, log.entries)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _log_equal(a: Any, b: Any) -> bool:
    return (a.room_id, a.name, a.keys) == (b.room_id, b.name, b.keys) and b.bad_frames == 0 and (
        [_fresh(e) for e in a.entries] == [_fresh(e) for e in b.entries])


# ----- control operations ------------------------------------------------------------------------

def _state() -> ControlState:
    """A room with an owner, an admin and a member, an open invite, at key epoch 0."""
    members = {pub(OWNER): Member(Role.OWNER, "owner", 0), pub(ADMIN): Member(Role.ADMIN, "admin", 1),
               pub(MEMBER): Member(Role.MEMBER, "member", 2)}
    invites = {"invite-0001": Invite(blob("invite key", 32), 2_000_000_000_000, pub(ADMIN), 2)}
    return ControlState(name="room", owner=pub(OWNER), members=members, invites=invites)


STATE = _state()
AUTHORS = (pub(OWNER), pub(ADMIN), pub(MEMBER), pub(ME))


def _apply_all(data: bytes) -> ControlOp:
    """Decode and shape-check an operation, then apply it as each kind of author (to a copy of the state:
    `apply_op` changes the state it is given, or raises DecodeError and changes nothing)."""
    op = ControlOp.decode(data)
    parsed = parse_op(op)
    for author in AUTHORS:
        state = STATE.copy()
        before = (dict(state.members), dict(state.invites), state.public, state.name)
        try:
            apply_op(state, author, parsed, 7)
        except DecodeError:
            assert (dict(state.members), dict(state.invites), state.public, state.name) == before, \
                "a refused operation changed the state"
    return op


# ----- Yjs updates -------------------------------------------------------------------------------

def _encode_update(summary: UpdateSummary) -> bytes | None:
    """The writer's form of an accepted update, or None for a shape the writer never makes."""
    deletes = list(summary.deletes)
    if not summary.inserts:
        return encode_delete_update(deletes)
    if len(summary.inserts) != 1 or summary.inserts[0].clock != 0:
        return None
    item = summary.inserts[0]
    return encode_insert_update(item.client, item.root, item.key, item.value, deletes)


def _summary_equal(a: Any, b: Any) -> bool:
    return same(list(a.inserts), list(b.inserts)) and sorted(a.deletes) == sorted(b.deletes)


def _check_update(data: bytes, summary: UpdateSummary) -> None:
    """Beyond decoding: the value rules never raise, and pycrdt applies what the reader accepted."""
    from pycrdt import Doc

    for item in summary.inserts:
        for root in ("m", "e", "x", "r", "p", "c", "s", item.root):
            if value_problem(root, item.value) is None:
                required_role(root, item.value, "AAAAAAAA")
    doc: Doc[Any] = Doc()
    try:
        doc.apply_update(data)
    except BaseException as exc:  # pycrdt's Rust panics are BaseExceptions
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise AssertionError(f"pycrdt cannot apply an update summarize_update accepted: {type(exc).__name__}: {exc}") from exc


# ----- ciphers -----------------------------------------------------------------------------------

def _open_payload(data: bytes) -> bytes:
    return open_payload(ROOM_KEY, data[:8], data[8:], ROOM_ID, pub(MEMBER), 1, 0)


def _open_sealed(data: bytes) -> bytes:
    return open_sealed(ME, data)


# ----- the compiled readers against the Python reference ----------------------------------------

def _native_entry(data: bytes) -> tuple[Entry, bytes]:
    """crdt/native.py's entry reader and the Python one, on the same bytes: the compiled one returns None or
    exactly what the Python one returns (then also its hash and payload check)."""
    fast = fast_decode_entry(data, 0)
    try:
        entry, end = decode_entry(data)
    except DecodeError:
        if fast is not None:
            raise AssertionError("the compiled reader accepted an entry the reference refuses") from None
        raise
    if fast is not None:
        got, got_end = fast
        assert (got, got_end, got.header(), got.hash, got.payload_intact()) == (
            entry, end, entry.header(), _fresh_hash(entry), entry.payload_intact()), "the readers disagree"
    return entry, data[end:]


def _fresh_hash(entry: Entry) -> bytes:
    return dataclasses.replace(entry).hash


def _native_message(data: bytes) -> ContentCheck:
    """The compiled checks of a message update and `check_content`, on the same bytes (by MEMBER, seq 1)."""
    e = _message_entry()
    fast = fast_check_message(e, data, short_id(e.author))
    try:
        check = check_content(e, data, short_id(e.author), lambda _client: None)
    except (DecodeError, InvalidEntry, UnknownItem):
        if fast is not None:
            raise AssertionError("the compiled checks accepted an update the reference refuses") from None
        raise
    if fast is not None:
        assert same(fast, check), "the compiled checks and the reference disagree"
    return check


@functools.cache
def _message_entry() -> Entry:
    return sample_entries()[1]


# ----- the targets -------------------------------------------------------------------------------

_entry_prefix = Target(
    "crdt.entry.decode_entry", _decode_prefix, (DecodeError,),
    encode=lambda r: _fresh(r[0]) + r[1], canonical=True, equal=_entry_equal, max_len=8192)
_entry_one = Target(
    "crdt.entry.decode_one", decode_one, (DecodeError,),
    encode=_fresh, canonical=True, equal=_entry_equal, max_len=8192)
_sync = Target(
    "crdt.sync.decode_frame", decode_frame, (), rejected=lambda r: isinstance(r, FrameRejected),
    encode=_encode_sync, canonical=True, equal=_sync_equal, max_len=16384)

TARGETS = [
    _entry_prefix,
    _entry_one,
    _sync,
    Target("crdt.logfile.read_log", read_log, (DecodeError,), encode=_encode_log, equal=_log_equal, max_len=16384),
    Target("crdt.control.ControlOp.decode", ControlOp.decode, (DecodeError,), encode=ControlOp.encode),
    Target("crdt.control.apply_op", _apply_all, (DecodeError,),
           no_encoder="a validator of decoded operations against a fixed room state"),
    Target("crdt.yjs_update.summarize_update", summarize_update, (DecodeError,), encode=_encode_update,
           equal=_summary_equal, check=_check_update),
    Target("crdt.cipher.open_payload", _open_payload, (DecodeError,), no_encoder="decryption: no value to re-encode"),
    Target("crdt.cipher.open_sealed", _open_sealed, (DecodeError,), no_encoder="decryption: no value to re-encode"),
    Target("crdt.native.decode_entry", _native_entry, (DecodeError,),
           encode=lambda r: _fresh(r[0]) + r[1], canonical=True, equal=_entry_equal, max_len=8192),
    Target("crdt.native.check_message", _native_message, (DecodeError, InvalidEntry, UnknownItem),
           no_encoder="a comparison of two checkers of one update"),
]


# ----- seeds -------------------------------------------------------------------------------------

def sample_entries() -> list[Entry]:
    """A few signed entries: a genesis-like control entry, a message, a hollow (redacted) one."""
    room_id = ROOM_ID
    out = []
    for seq, plain in enumerate((b"\x01" + ControlOp("name", {"name": "member"}).encode(),
                                 b"\x00" + encode_insert_update(client_id(short_id(pub(MEMBER)), 1), "m", "k",
                                                                {"c": "general", "t": "hello", "ts": 1.0}),
                                 b"\x00" + encode_delete_update([(5, 0, 1)]))):
        nonce = blob(f"nonce {seq}", 8)
        ct = seal_payload(ROOM_KEY, nonce, plain, room_id, pub(MEMBER), seq, 0)
        deps = () if seq == 0 else tuple(sorted(blob(f"dep {i}", 32) for i in range(seq)))
        out.append(sign_entry(MEMBER, room_id=room_id, seq=seq, prev=NO_HASH if seq == 0 else blob("prev", 32),
                              epoch=0, deps=deps, nonce=nonce, ciphertext=ct))
    out.append(out[1].without_payload())
    return out


def seeds() -> Seeds:
    entries = sample_entries()
    raw = [e.encode() for e in entries]
    padded = bytearray(raw[1])
    padded[65:66] = bytes((padded[65] | 0x80, 0))  # seq as a two-byte varint: refused (not canonical)
    heads = encode_heads({pub(MEMBER): 3, pub(ADMIN): 0}, {pub(MEMBER): blob("head hash", 16)})
    want = encode_want([(pub(MEMBER), 2, 1), (pub(ADMIN), 0, 4000)])
    frames = encode_entries(raw)
    log_path = _SCRATCH / f"hubbub-fuzz-seed-{os.getpid()}"
    try:
        write_log(log_path, ROOM_ID, "room", {ROOM_ID: ROOM_KEY, blob("rotation 1", 32): blob("key 1", 32)}, entries)
        log = log_path.read_bytes()
    finally:
        log_path.unlink(missing_ok=True)
    rotate = {"commit": key_commitment(blob("key 1", 32)).hex(), "keys": {pub(ADMIN).hex(): "00" * 48}}
    ops = [ControlOp("genesis", {"name": "room", "member_name": "owner", "nonce": "00ff", "ts": 1}),
           ControlOp("add", {"member": pub(ME).hex(), "role": "member", "invite": "invite-0001", "ts": 5}),
           ControlOp("remove", {"member": pub(MEMBER).hex(), "after_seq": 3, "rotate": rotate, "ts": 6}),
           ControlOp("remove", {"member": pub(ADMIN).hex(), "after_seq": -1, "ts": 6}),
           ControlOp("role", {"member": pub(MEMBER).hex(), "role": "moderator", "after_seq": 2, "ts": 7}),
           ControlOp("invite", {"id": "invite-0002", "expires_ms": 10, "key": "11" * 32, "uses": 3, "ts": 8}),
           ControlOp("invite", {"id": "invite-0003", "expires_ms": None, "key": "22" * 32, "ts": 8}),
           ControlOp("rekey", {"rotate": rotate, "for": [blob("why", 32).hex()], "ts": 9}),
           ControlOp("public", {"on": True, "ts": 9}), ControlOp("name", {"name": "x", "ts": 9})]
    op_bytes = [(f"op-{op.op}-{i}", op.encode()) for i, op in enumerate(ops)] + [
        ("op-nested", b'{"name":[[[[1]]]],"op":"name","ts":1}')]
    updates = [("insert", encode_insert_update(12345, "m", "key", {"c": "general", "t": "hi", "ts": 1.5,
                                                                   "mn": ["a"], "f": {"x": [1, None, True]}})),
               ("insert-bytes", encode_insert_update(7, "s", "k", {"n": "name", "tags": ["a", "b"], "b": b"\x00"})),
               ("insert-bigint", encode_insert_update(9, "c", "k", {"id": "c1", "n": 2**60 + 1, "f": 0.1})),
               ("delete", encode_delete_update([(1, 0, 1), (2, 5, 3)])),
               ("empty", b"\x00\x00")]
    writer = short_id(pub(MEMBER))
    message = encode_insert_update(client_id(writer, 1), "m", eid(pub(MEMBER), 1), {"c": "general", "t": "hi", "ts": 1.7e12})
    long_message = encode_insert_update(client_id(writer, 1), "m", eid(pub(MEMBER), 1),
                                        {"ts": 3, "c": "general", "t": "a long message " * 20})
    extra = encode_insert_update(client_id(writer, 1), "m", eid(pub(MEMBER), 1), {"c": "g", "t": "x", "ts": 1.5, "r": "bad"})
    other_key = encode_insert_update(client_id(writer, 2), "m", eid(pub(MEMBER), 2), {"c": "g", "t": "x", "ts": 1.5})
    nonce = blob("payload nonce", 8)
    sealed = seal_payload(ROOM_KEY, nonce, b"\x00payload", ROOM_ID, pub(MEMBER), 1, 0)
    return {
        "crdt.entry.decode_entry": [("message", raw[1]), ("control", raw[0]), ("hollow", raw[3]),
                                    ("two", raw[1] + raw[2]), ("padded-varint", bytes(padded)),
                                    ("truncated", raw[1][:100])],
        "crdt.entry.decode_one": [("message", raw[1]), ("deps2", raw[2]), ("hollow", raw[3]),
                                  ("trailing", raw[0] + b"\x00")],
        "crdt.sync.decode_frame": [("heads", heads), ("entries", frames), ("empty-heads", encode_heads({})),
                                   ("want", want), ("bad-kind", b"\x02\x09\x00")],
        "crdt.logfile.read_log": [("log", log), ("header-only", log[:log.index(b"}") + 1]),
                                  ("damaged-frame", log[:-5])],
        "crdt.control.ControlOp.decode": op_bytes,
        "crdt.control.apply_op": op_bytes,
        "crdt.yjs_update.summarize_update": updates,
        "crdt.cipher.open_payload": [("sealed", nonce + sealed), ("short", nonce + sealed[:10])],
        "crdt.cipher.open_sealed": [("sealed", sealed_to(pub(ME), ROOM_KEY)), ("junk", blob("junk", 80))],
        "crdt.native.decode_entry": [("message", raw[1]), ("control", raw[0]), ("hollow", raw[3]),
                                     ("deps2", raw[2]), ("padded-varint", bytes(padded))],
        "crdt.native.check_message": [("message", message), ("message-long", long_message),
                                      ("extra-field", extra), ("other-key", other_key)],
    }
