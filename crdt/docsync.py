"""Keeping a room's pycrdt document equal to its *valid* entries: apply, retract, or rebuild.

An entry that becomes valid has its update applied. An entry that becomes void is
retracted: when its update only inserted a value, by a local deletion of that value
(every entry inserts under its own Yjs id, so the deletion names exactly it); when it
also deleted things, or when a retracted entry becomes valid again, deletions cannot
be undone, so the document is rebuilt from the valid entries' updates. Views hear of
every change (`RoomView.apply_changes`, or a full rebuild).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from pycrdt import Doc, Map

from .content import APPLIED, CONTROL, DELETES, HOLLOW, RETRACTED, VALID
from .roomstate import RoomState
from .roomtypes import IngestResult, Staged
from .schema import ROOTS, client_id
from .yjs_update import encode_delete_update, summarize_update

log = logging.getLogger(__name__)


def apply_updates(doc: Doc[Any], updates: list[bytes]) -> None:
    """Apply checked Yjs updates in one transaction (far cheaper than merging them first)."""
    with doc.transaction() as txn:
        apply = _raw_apply(doc, txn)
        for update in updates:
            try:
                apply(update)
            except BaseException as exc:  # pycrdt's Rust panics are not Exceptions
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                log.error("a checked update failed to apply: %s", exc)


def _raw_apply(doc: Doc[Any], txn: Any) -> Callable[[bytes], None]:
    """pycrdt's own apply of an update inside the open transaction `txn`, without the checks and context switch
    that `Doc.apply_update` repeats for every update (a third of its cost); `Doc.apply_update` itself when this
    pycrdt does not look as expected, or the document has a model to validate against."""
    raw_apply, raw_txn = getattr(getattr(doc, "_doc", None), "apply_update", None), getattr(txn, "_txn", None)
    if raw_apply is None or raw_txn is None or getattr(doc, "_Model", None) is not None or type(txn).__name__ != "Transaction":
        return doc.apply_update
    return partial(raw_apply, raw_txn)


def _payloads(room: RoomState, author: bytes, seqs: list[int]) -> dict[int, bytes]:
    if room.updates is not None:
        return {s: room.updates[(author, s)] for s in seqs if (author, s) in room.updates}
    if room.payload_loader is None or not seqs:
        return {}
    return room.payload_loader(author, seqs)


def _note_deletes(room: RoomState, deletes: tuple[tuple[int, int, int], ...], result: IngestResult) -> None:
    for client, _clock, _length in deletes:
        owner = room.cid_owner.get(client)
        if owner is not None:
            result.removed.append((owner[1], owner[2], None))


def apply(room: RoomState, staged: list[Staged], flips: list[tuple[bytes, int, bool]], result: IngestResult) -> None:
    """Bring the document in line with what one ingest linked (`staged`) and re-judged (`flips`)."""
    updates: list[bytes] = []
    retract: list[tuple[int, int, int]] = []
    rebuild = False
    held, metas, inserts = room.updates, room.meta, result.inserts
    for s in staged:
        check = s.check
        if check is None:
            continue
        e = s.entry
        if held is not None:
            held[(e.author, e.seq)] = s.body
        meta = metas[e.author]
        slot = e.seq - meta.base
        f = meta.flags[slot]
        if not f & VALID:
            continue
        if f & RETRACTED:
            rebuild = True
            continue
        if not f & APPLIED:
            updates.append(s.body)
            meta.flags[slot] = f | APPLIED
            inserts.extend(check.summary.inserts)
            if check.summary.deletes:
                _note_deletes(room, check.summary.deletes, result)
    by_author: dict[bytes, list[int]] = {}
    for author, seq, valid in flips:
        if valid:
            by_author.setdefault(author, []).append(seq)
    bodies = {a: _payloads(room, a, seqs) for a, seqs in by_author.items()}
    for author, seq, valid in flips:
        meta = room.meta[author]
        f = meta.get_flags(seq)
        if valid:
            f |= VALID
            if f & RETRACTED:
                rebuild = True
            elif not f & APPLIED:
                body = bodies.get(author, {}).get(seq)
                if body is not None:
                    summary = summarize_update(body)
                    updates.append(body)
                    f |= APPLIED
                    result.inserts.extend(summary.inserts)
                    _note_deletes(room, summary.deletes, result)
        else:
            f &= ~VALID
            if f & APPLIED and not f & RETRACTED:
                if f & DELETES:
                    rebuild = True
                else:
                    client = client_id(room.short(author), seq)
                    retract.append((client, 0, 1))
                    owner = room.cid_owner.get(client)
                    if owner is not None:
                        result.removed.append((owner[1], owner[2], None))
                    f |= RETRACTED
        meta.set_flags(seq, f)
        result.flipped.append((author, seq, f))
    if rebuild:
        if room.updates is None and room.payload_loader is None:
            result.rebuild_needed = True
        else:
            rebuild_document(room, result)
            return
    if retract:
        updates.append(encode_delete_update(retract))
    if updates:
        _capture_removed(room, result)
        apply_updates(room.doc, updates)
    if result.inserts or result.removed:
        for v in room.views:
            v.apply_changes(result.inserts, result.removed)


def _capture_removed(room: RoomState, result: IngestResult) -> None:
    """Fill in the values that deleted keys held, before the updates remove them."""
    if not result.removed:
        return
    batch = {(i.root, i.key): i.value for i in result.inserts}
    result.removed = [(root, key, batch.get((root, key), room.maps[root].get(key))) for root, key, _ in result.removed]


def rebuild_document(room: RoomState, result: IngestResult | None = None) -> None:
    """Replace the document with one made from the valid entries' updates alone (and tell the views)."""
    doc: Doc[Any] = Doc()
    updates: list[bytes] = []
    for author, meta in list(room.meta.items()):
        room._meta(author, 0)  # load the records of entries from before the room was opened
        wanted = [s for s in range(meta.base, meta.end)
                  if meta.get_flags(s) & VALID and not meta.get_flags(s) & (CONTROL | HOLLOW)]
        bodies = _payloads(room, author, wanted)
        for s in range(meta.base, meta.end):
            f = meta.get_flags(s) & ~(APPLIED | RETRACTED)
            if s in bodies:
                updates.append(bodies[s])
                f |= APPLIED
            if f != meta.get_flags(s):
                meta.set_flags(s, f)
                if result is not None:
                    result.flipped.append((author, s, f))
    apply_updates(doc, updates)
    room.doc = doc
    room.maps = {root: doc.get(root, type=Map) for root in ROOTS}
    for v in room.views:
        v.rebind(doc)
    if result is not None:
        result.rebuilt = True
        result.inserts = []
        result.removed = []
