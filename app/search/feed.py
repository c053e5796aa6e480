"""Keeping the search index in step with the rooms: every stored change, local or remote, and every purge.

`IndexFeed` is a `ContentWatcher` of each room the node opens (app/room.py). After an ingest is
stored it notes which messages the ingest touched (a new message, an edit, a deletion, a pin, a
retraction: `IngestResult.inserts` and `.removed`). Those are indexed as the room's view shows them
then, grouped into one commit (`flush`): before every search, before a purge, at the node's
housekeeping round and when many are waiting. So no search ever sees the index behind the rooms, and
a post does not pay for an FTS5 commit of its own (a commit per message costs ~0.3 ms; grouped, ~15 µs).

A purge (expiry, deletion) takes the messages out and erases the index's removed text from its files
(`SearchIndex.erase`). A room whose index is not known to be current (a profile from before the index;
a crash before a flush: the index records how far into the room's stored entries it is, `upto`) is
indexed from scratch before it is next searched (`ensure_current`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from crdt.room import IngestResult
from crdt.schema import DELETES, EDITS, MESSAGES, PINS, split_eid

from .index import Doc, SearchIndex, flags_for

if TYPE_CHECKING:
    from ..room import Room

log = logging.getLogger(__name__)

TARGETING = (EDITS, DELETES, PINS)  # roots whose values name the message they change
FLUSH_AT = 2000  # touched messages waiting in a room before they are indexed at once


def has_files(value: Any) -> bool:
    """Whether a message value carries attachments (the `a` list of the files feature)."""
    return isinstance(value, dict) and isinstance(value.get("a"), list) and bool(value["a"])


def touched(result: IngestResult) -> set[str]:
    """The ids of the messages whose shown form an ingest may have changed."""
    out: set[str] = set()
    for item in result.inserts:
        if item.root == MESSAGES:
            out.add(item.key)
        elif item.root in TARGETING and isinstance(item.value, dict) and isinstance(item.value.get("m"), str):
            out.add(item.value["m"])
    for root, key, old in result.removed:
        if root == MESSAGES:
            out.add(key)
        elif root in TARGETING and isinstance(old, dict) and isinstance(old.get("m"), str):
            out.add(old["m"])
    return out


def doc_for(room: Room, message_id: str, now_ms: float) -> Doc | None:
    """The message as the index should hold it, or None when it is not shown (deleted, expired, retracted)."""
    parts = split_eid(message_id)
    msg = room.view.message(message_id, now_ms)
    if parts is None or msg is None or msg.deleted:
        return None
    files = has_files(room.view.maps[MESSAGES].get(message_id))
    return Doc(parts[0], parts[1], msg.channel, msg.ts, flags_for(msg.text, files=files, pinned=msg.pinned), msg.text)


def room_docs(room: Room, now_ms: float) -> Iterator[Doc]:
    """Every message the room shows, as the index holds them (one pass over the document: ~5 µs a message)."""
    view = room.view
    deleted = set(view.deleted_ids())
    pinned = {m.id for m in view.pinned()}
    edited = {v.get("m") for v in view.maps[EDITS].values() if isinstance(v, dict)}
    ttls = {c.id: c.ttl for c in view.channels() if c.ttl}
    for key, value in view.maps[MESSAGES].items():
        parts = split_eid(key)
        if parts is None or not isinstance(value, dict) or key in deleted:
            continue
        if key in edited:
            doc = doc_for(room, key, now_ms)
            if doc is not None:
                yield doc
            continue
        channel, text = str(value.get("c")), str(value.get("t", ""))
        try:
            ts = float(value.get("ts", 0))
            ttl = value.get("ttl") or ttls.get(channel)
            if ttl and ts + float(ttl) * 1000 <= now_ms:
                continue
        except (TypeError, ValueError):
            continue
        yield Doc(parts[0], parts[1], channel, ts, flags_for(text, files=has_files(value), pinned=key in pinned), text)


class IndexFeed:
    """The node's search index, fed by the rooms it follows."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._current: set[bytes] = set()  # rooms whose index (with what is pending) matches their view
        self._pending: dict[bytes, tuple[Room, set[str]]] = {}

    def follow(self, room: Room) -> None:
        """Keep `room`'s part of the index current from now on."""
        if self in room.watchers:
            return
        room.watchers.append(self)
        idx = self.index.room_idx(room.id)
        upto = room.profile.store.max_n(room.id)
        if self.index.upto(idx) == upto:
            self._current.add(room.id)
        elif not len(room.view.maps[MESSAGES]):  # a new room (created, joined): nothing to index yet
            self.index.replace_room(idx, [], upto)
            self._current.add(room.id)

    def is_current(self, room: Room) -> bool:
        return room.id in self._current

    def pending(self) -> int:
        return sum(len(ids) for _room, ids in self._pending.values())

    def ensure_current(self, room: Room) -> int:
        """Bring the room's index up to date: what waits is indexed, or the room from scratch; returns messages indexed."""
        if room.id in self._current:
            return self.flush(room)
        return self.reindex(room)

    def reindex(self, room: Room) -> int:
        self._pending.pop(room.id, None)
        idx = self.index.room_idx(room.id)
        count = self.index.replace_room(idx, room_docs(room, time.time() * 1000.0), room.profile.store.max_n(room.id))
        self._current.add(room.id)
        log.info("indexed %d messages of %s for search", count, room.name)
        return count

    def flush(self, room: Room | None = None) -> int:
        """Index what waits (in one room, or all) as the views show it now; returns how many messages."""
        rooms = [room.id] if room is not None else list(self._pending)
        done = 0
        for rid in rooms:
            waiting = self._pending.pop(rid, None)
            if waiting is None:
                continue
            r, ids = waiting
            idx = self.index.room_idx(rid)
            now = time.time() * 1000.0
            with self.index.transaction():
                gone = []
                for mid in ids:
                    doc = doc_for(r, mid, now)
                    if doc is not None:
                        self.index.put(idx, doc)
                    else:
                        parts = split_eid(mid)
                        if parts is not None:
                            gone.append(parts)
                if gone:
                    self.index.remove(idx, gone)
                self.index.set_upto(idx, r.profile.store.max_n(rid))
            done += len(ids)
        return done

    # ----- ContentWatcher ----------------------------------------------------------------------

    def changed(self, room: Room, result: IngestResult) -> None:
        if room.id not in self._current:
            return  # indexed from scratch before its next search
        if result.rebuilt or result.rebuild_needed:
            self._current.discard(room.id)  # the document was rebuilt: so is the room's index, before it is read
            self._pending.pop(room.id, None)
            return
        ids = touched(result)
        if not ids:
            return
        waiting = self._pending.setdefault(room.id, (room, set()))[1]
        waiting.update(ids)
        if len(waiting) >= FLUSH_AT:
            self.flush(room)

    def purged(self, room: Room, message_ids: set[str]) -> None:
        self.flush(room)
        idx = self.index.room_idx(room.id)
        with self.index.transaction():
            self.index.remove(idx, [p for p in map(split_eid, message_ids) if p is not None])
        self.index.erase()
