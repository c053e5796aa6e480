"""Local writes to a room: sign the next entry of our chain, check it like anyone else's, and hold it.

A write is refused before anything is signed when the author lacks the role for it
(judged exactly as a receiver will judge it: `RoomLog.role_for_next`), so a refused
write leaves no trace. It names the current effective control frontier as its `deps`,
is encrypted under the current key context, and carries a time no earlier than the
newest control operation it names.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Callable
from typing import Any

from nacl.signing import SigningKey

from .cipher import new_nonce, seal_payload
from .content import check_content, refusal
from .control import ControlOp, apply_op, parse_op
from .entry import NO_HASH, Entry, sign_entry
from .errors import DecodeError, InvalidEntry, NotAMember, PermissionDenied
from .schema import b36, client_id, split_eid
from .yjs_update import encode_delete_update, encode_insert_update

from .linking import Linking
from .roomtypes import IngestResult

Ingest = Callable[..., IngestResult]

KIND_YJS = 0
KIND_CONTROL = 1


def now_ms() -> float:
    return time.time() * 1000.0


def next_entry(room: Linking, identity: SigningKey, kind: int, body: bytes) -> Entry:
    """Sign our next entry carrying `body` (not yet checked or held)."""
    author = bytes(identity.verify_key)
    seq = room.head(author) + 1
    prev = room.chains[author][-1] if seq > 0 else NO_HASH
    deps = room.frontier
    if not deps:
        raise NotAMember("this node does not hold the room's control history yet")
    context = room.graph.context(deps)
    key = room.keys.key_for(context)
    if key is None:
        raise NotAMember("this node does not hold the room's current key")
    epoch = room.graph.generation(context)
    nonce = new_nonce()
    ct = seal_payload(key, nonce, bytes((kind,)) + body, room.room_id, author, seq, epoch)
    entry = sign_entry(identity, room_id=room.room_id, seq=seq, prev=prev, epoch=epoch, deps=deps, nonce=nonce, ciphertext=ct)
    room.verified.add(entry.hash)  # we just signed it: no need to verify our own signature
    return entry


def time_bound(room: Linking) -> float:
    return float(room.graph.time_bound(room.frontier)) if room.frontier else 0.0


def commit_local(room: Linking, ingest: Ingest, entry: Entry) -> IngestResult:
    """Hold our own entry (through `ingest`, the room's); it must come out linked and valid, or it is refused."""
    result = ingest([entry], origin="local")
    if result.rejected:
        reason = result.rejected[0][1]
        if "not a member" in reason:
            raise NotAMember("you are not a member of this room")
        raise PermissionDenied(reason)
    if not any(e.hash == entry.hash for e in result.accepted):
        room.pending.take((entry.author, entry.seq))
        raise NotAMember("this node cannot write to this room yet")
    if any(e.hash == entry.hash for e, _ in result.void):
        reason = next(r for e, r in result.void if e.hash == entry.hash)
        raise PermissionDenied(reason or "not allowed")
    return result


def write_control(room: Linking, ingest: Ingest, identity: SigningKey, op: ControlOp) -> IngestResult:
    """Sign, check and hold a control operation by the local member."""
    room.identity = room.identity or identity  # to open the keys our own rotations seal to us
    args = dict(op.args)
    args["ts"] = int(max(float(args.get("ts", 0) or 0), room.clock(), time_bound(room)))
    op = ControlOp(op.op, args)
    try:
        parsed = parse_op(op)
        apply_op(room.state().copy(), bytes(identity.verify_key), parsed, len(room.resolution.order))
    except DecodeError as exc:
        reason = str(exc)
        if "not a member" in reason:
            raise NotAMember("you are not a member of this room") from exc
        raise PermissionDenied(reason) from exc
    return commit_local(room, ingest, next_entry(room, identity, KIND_CONTROL, op.encode()))


def write_value(room: Linking, ingest: Ingest, identity: SigningKey, root: str, value: dict[str, Any],
                delete: Iterable[str] = ()) -> tuple[str, IngestResult]:
    """Insert `value` under `root` (and delete the items written by the eids in `delete`)."""
    author = bytes(identity.verify_key)
    seq = room.head(author) + 1
    writer = room.short(author)
    key = writer + b36(seq)
    value = dict(value)
    if "ts" in value:
        value["ts"] = max(float(value["ts"]), time_bound(room))
    try:
        update = encode_insert_update(client_id(writer, seq), root, key, value, delete_ranges(delete))
    except ValueError as exc:
        raise PermissionDenied(str(exc)) from exc
    _precheck(room, author, seq, update)
    return key, commit_local(room, ingest, next_entry(room, identity, KIND_YJS, update))


def write_deletes(room: Linking, ingest: Ingest, identity: SigningKey, targets: Iterable[str]) -> IngestResult:
    """Remove the items written by the given eids (e.g. take back a reaction)."""
    ranges = delete_ranges(targets)
    if not ranges:
        raise PermissionDenied("nothing to remove")
    author = bytes(identity.verify_key)
    update = encode_delete_update(ranges)
    _precheck(room, author, room.head(author) + 1, update)
    return commit_local(room, ingest, next_entry(room, identity, KIND_YJS, update))


def _precheck(room: Linking, author: bytes, seq: int, update: bytes) -> None:
    """Refuse a content write its author has no authority for, before signing anything."""
    probe = Entry(room.room_id, author, seq, NO_HASH, 0, (), bytes(8), bytes(32), bytes(64), None)
    try:
        check = check_content(probe, update, room.short(author), room._owner_of)
    except InvalidEntry as exc:
        raise PermissionDenied(exc.reason) from exc
    except Exception as exc:  # an unknown item to delete, or an update we cannot read
        raise PermissionDenied("that item is not in this room") from exc
    role = room.role_for_next(author)
    if role is None:
        raise NotAMember("you are not a member of this room")
    if role < check.need:
        raise PermissionDenied(refusal(check.need, check.summary))


def delete_ranges(eids: Iterable[str]) -> list[tuple[int, int, int]]:
    """The Yjs id ranges of the items written by the entries `eids` name (each wrote one item)."""
    ranges = []
    for target in eids:
        parts = split_eid(target)
        if parts is not None:
            ranges.append((client_id(parts[0], parts[1]), 0, 1))
    return ranges
