"""The read model of a room: messages with their edits, reactions, pins and deletions, and channels and settings."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Map

from .gcpause import CollectorPaused
from .schema import CHANNELS, DELETES, EDITS, MESSAGES, PINS, REACTIONS, SETTINGS, split_eid
from .viewindex import map_items, sort_index

DEFAULT_CHANNEL = "general"


@dataclass(slots=True)
class Edit:
    eid: str
    text: str
    ts: float
    by: str


@dataclass(slots=True)
class Message:
    """A message as a user sees it."""

    id: str
    author: str  # short id of the author's key
    channel: str
    text: str
    ts: float
    reply_to: str | None = None
    thread: str | None = None
    forward: dict[str, Any] | None = None
    ttl: float | None = None
    mentions: list[str] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji -> author shorts
    reaction_ids: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (emoji, author) -> eids
    deleted: bool = False
    pinned: bool = False
    pin_ids: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)  # file manifests (crdt/attachments.py)

    @property
    def edited(self) -> bool:
        return bool(self.edits)

    @property
    def original_text(self) -> str:
        return self.text if not self.edits else self.edits[0].text


@dataclass(slots=True)
class Channel:
    id: str
    name: str
    kind: str = "text"
    category: str = ""
    ttl: float | None = None
    position: float = 0.0
    topic: str = ""


def _author(eid_value: str) -> str:
    parts = split_eid(eid_value)
    return parts[0] if parts else ""


def _seq(eid_value: str) -> int:
    parts = split_eid(eid_value)
    return parts[1] if parts else 0


def _order(values: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(values.items(), key=lambda kv: (float(kv[1].get("ts", 0) or 0), kv[0]))


class RoomView:
    """Messages and settings read out of a room's pycrdt document.

    It keeps a per-channel index sorted by (time, id), updated from document
    events, so that reading the newest page of a large channel is cheap.
    """

    def __init__(self, doc: Doc[Any]) -> None:
        self.doc = doc
        self.maps: dict[str, Map[Any]] = {r: doc.get(r, type=Map) for r in (MESSAGES, EDITS, DELETES, REACTIONS, PINS, CHANNELS, SETTINGS)}
        self._index: dict[str, list[tuple[float, str]]] = {}
        self._indexed: set[str] = set()
        self._ttl_heap: list[tuple[float, str]] = []  # (expiry ms, id) of messages with their own ttl
        self._ttl_mark: dict[str, float] = {}  # channel -> message time up to which expiry was reported
        self._new_deletions: list[str] = []
        self._channels: list[Channel] | None = None
        self._tables: dict[str, dict[str, list[str]]] = {EDITS: {}, REACTIONS: {}, PINS: {}}  # root -> target -> keys
        self._deleted: dict[str, str] = {}
        self._rebuild()

    # ----- index maintenance ---------------------------------------------------------

    def _rebuild(self) -> None:
        with CollectorPaused():  # an object or two per message, all kept: see crdt/gcpause.py
            self._rebuild_index()
            self.rebuild_children()

    def _rebuild_index(self) -> None:
        index: dict[str, list[tuple[float, str]]] = {}
        seen: set[str] = set()
        mark = seen.add
        for key, value in map_items(self.maps[MESSAGES]):
            if type(value) is dict or isinstance(value, dict):
                mark(key)
                c = value.get("c")
                lst = index.get(c) if type(c) is str else None
                if lst is None:
                    lst = index.setdefault(str(c), [])
                lst.append((float(value.get("ts", 0)), key))
                if "ttl" in value:
                    self._track_ttl(key, value)
        for _key, value in map_items(self.maps[DELETES]):
            # A deleted message's item is gone; its deletion marker keeps its place as a tombstone.
            if isinstance(value, dict) and value.get("m") not in seen and "c" in value:
                seen.add(str(value["m"]))
                index.setdefault(str(value["c"]), []).append((float(value.get("ots", 0)), str(value["m"])))
        for lst in index.values():
            sort_index(lst)
        self._index = index
        self._indexed = seen

    def apply_changes(self, inserts: Iterable[Any], removed: Iterable[tuple[str, str, Any]]) -> None:
        """Update the indexes from what an ingest inserted and deleted (`IngestResult.inserts/.removed`).

        This costs the size of the change, never the size of the history (pycrdt's map
        observers build event objects whose cost grows with the map).
        """
        for item in inserts:
            root, key, value = item.root, item.key, item.value
            if root == CHANNELS:
                self._channels = None
            if not isinstance(value, dict) or not self._visible_eid(key):
                continue
            if root == MESSAGES:
                if key not in self._indexed:
                    self._indexed.add(key)
                    bisect.insort(self._index.setdefault(str(value.get("c")), []), (float(value.get("ts", 0)), key))
                    self._track_ttl(key, value)
            elif root == DELETES:
                target = value.get("m")
                if isinstance(target, str):
                    self._deleted[target] = key
                    self._new_deletions.append(target)
                    if target not in self._indexed and "c" in value:
                        self._indexed.add(target)
                        bisect.insort(self._index.setdefault(str(value["c"]), []), (float(value.get("ots", 0) or 0), target))
            elif root in self._tables:
                self._tables[root].setdefault(str(value.get("m")), []).append(key)
        for root, key, old in removed:
            if root == CHANNELS:
                self._channels = None
            if root == MESSAGES:
                self._place_tombstone(key, old)
            elif root in self._tables and isinstance(old, dict):
                keys = self._tables[root].get(str(old.get("m")), [])
                if key in keys:
                    keys.remove(key)
            elif root == DELETES and isinstance(old, dict) and self._deleted.get(str(old.get("m"))) == key:
                del self._deleted[str(old.get("m"))]

    def rebind(self, doc: Doc[Any]) -> None:
        """Read from a new document (the room's was rebuilt) and re-index everything."""
        self.doc = doc
        self.maps = {r: doc.get(r, type=Map) for r in (MESSAGES, EDITS, DELETES, REACTIONS, PINS, CHANNELS, SETTINGS)}
        self._ttl_heap = []
        self._ttl_mark = {}
        self._rebuild()

    def _unindex(self, key: str, old: Any) -> None:
        if not isinstance(old, dict):
            return
        lst = self._index.get(str(old.get("c")), [])
        entry = (float(old.get("ts", 0)), key)
        i = bisect.bisect_left(lst, entry)
        if i < len(lst) and lst[i] == entry:
            lst.pop(i)
        self._indexed.discard(key)

    def _place_tombstone(self, key: str, old: Any) -> None:
        """A deleted message stays in the index as a tombstone, placed where its deletion marker says
        (the same place a view rebuilt from the document gives it); a message retracted without a
        deletion marker (its author's authority was voided) leaves the index."""
        marker_key = self._deleted.get(key)
        marker = self.maps[DELETES].get(marker_key) if marker_key else None
        if not isinstance(marker, dict) or "c" not in marker:
            self._unindex(key, old)
            return
        if not isinstance(old, dict):
            return
        before = (str(old.get("c")), float(old.get("ts", 0)))
        after = (str(marker["c"]), float(marker.get("ots", 0) or 0))
        if before == after:
            return
        lst = self._index.get(before[0], [])
        i = bisect.bisect_left(lst, (before[1], key))
        if i < len(lst) and lst[i] == (before[1], key):
            lst.pop(i)
        bisect.insort(self._index.setdefault(after[0], []), (after[1], key))

    def position(self, message_id: str) -> int | None:
        """The index of a message in its channel's list (for jumping to it), or None."""
        msg = self.maps[MESSAGES].get(message_id)
        channel: str | None = None
        ts = 0.0
        if isinstance(msg, dict):
            channel, ts = str(msg.get("c")), float(msg.get("ts", 0))
        else:
            for value in self.maps[DELETES].values():
                if isinstance(value, dict) and value.get("m") == message_id:
                    channel, ts = str(value.get("c")), float(value.get("ots", 0) or 0)
                    break
        if channel is None:
            return None
        lst = self._index.get(channel, [])
        i = bisect.bisect_left(lst, (ts, message_id))
        return i if i < len(lst) and lst[i] == (ts, message_id) else None

    def rebuild_children(self) -> None:
        """Recompute edits, reactions, pins and deletions from the document."""
        self._channels = None
        self._tables = {EDITS: {}, REACTIONS: {}, PINS: {}}
        for root, table in self._tables.items():
            for key, value in map_items(self.maps[root]):
                if isinstance(value, dict) and self._visible_eid(key):
                    table.setdefault(str(value.get("m")), []).append(key)
        deleted: dict[str, str] = {}
        for key, value in map_items(self.maps[DELETES]):
            if isinstance(value, dict) and self._visible_eid(key):
                deleted[str(value.get("m"))] = key
        self._deleted = deleted
        self._new_deletions = list(deleted)

    def _visible_eid(self, key: str) -> bool:
        """Whether `key` is an entry-derived id (the document holds only valid entries' values)."""
        return split_eid(key) is not None

    # ----- reading ----------------------------------------------------------------------

    def channels(self) -> list[Channel]:
        """The room's channels, text before voice, by category and position (cached until one changes)."""
        if self._channels is None:
            self._channels = self._read_channels()
        return list(self._channels)

    def _read_channels(self) -> list[Channel]:
        merged: dict[str, dict[str, Any]] = {}
        for _key, value in _order({k: v for k, v in self.maps[CHANNELS].items() if isinstance(v, dict) and self._visible_eid(k)}):
            cid = str(value.get("id"))
            merged.setdefault(cid, {}).update(value)
        out = []
        for cid, v in merged.items():
            if v.get("del"):
                continue
            ttl = v.get("ttl")
            out.append(Channel(cid, str(v.get("n", cid)), str(v.get("k", "text")), str(v.get("g", "") or ""),
                               float(ttl) if ttl else None, float(v.get("pos", 0) or 0), str(v.get("topic", "") or "")))
        out.sort(key=lambda c: (c.kind != "text", c.category, c.position, c.name))
        return out

    def settings(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for _key, value in _order({k: v for k, v in self.maps[SETTINGS].items() if isinstance(v, dict) and self._visible_eid(k)}):
            merged.update({k: v for k, v in value.items() if k != "ts"})
        return merged

    def channel_ttl(self, channel: str) -> float | None:
        for c in self.channels():
            if c.id == channel:
                return c.ttl
        return None

    def count(self, channel: str) -> int:
        return len(self._index.get(channel, ()))

    def message_ids(self, channel: str) -> list[str]:
        return [k for _, k in self._index.get(channel, ())]

    def message(self, message_id: str, now_ms: float | None = None) -> Message | None:
        if not self._visible_eid(message_id):
            return None
        value = self.maps[MESSAGES].get(message_id)
        if not isinstance(value, dict):
            if message_id in self._deleted:
                marker = self.maps[DELETES].get(self._deleted[message_id])
                channel = str(marker.get("c", "")) if isinstance(marker, dict) else ""
                return self._tombstone(message_id, channel)
            return None
        return self._build(message_id, value, now_ms)

    def _tombstone(self, key: str, channel: str) -> Message:
        marker = self.maps[DELETES].get(self._deleted[key])
        ts = float(marker.get("ots", 0)) if isinstance(marker, dict) else 0.0
        msg = Message(id=key, author=_author(key), channel=channel, text="", ts=ts, deleted=True)
        self._add_reactions_and_pins(key, msg)
        return msg

    def page(self, channel: str, limit: int, before: int | None = None, now_ms: float | None = None) -> list[Message]:
        """Up to `limit` visible messages of `channel` ending before position `before` (default: the newest)."""
        lst = self._index.get(channel, [])
        end = len(lst) if before is None else max(0, min(before, len(lst)))
        out: list[Message] = []
        i = end
        m = self.maps[MESSAGES]
        channel_ttl = self.channel_ttl(channel) if now_ms is not None else None
        while i > 0 and len(out) < limit:
            i -= 1
            key = lst[i][1]
            if not self._visible_eid(key):
                continue
            value = m.get(key)
            if isinstance(value, dict):
                msg = self._build(key, value, now_ms, channel_ttl)
                if msg is not None:
                    out.append(msg)
            elif key in self._deleted:
                out.append(self._tombstone(key, channel))
        out.reverse()
        return out

    def history(self, channel: str, now_ms: float | None = None) -> list[Message]:
        return self.page(channel, len(self._index.get(channel, ())) or 1, now_ms=now_ms)

    def deleted_ids(self) -> list[str]:
        """Ids of messages that were deleted (their tombstones stay in the view)."""
        return list(self._deleted)

    def _track_ttl(self, key: str, value: dict[str, Any]) -> None:
        ttl = value.get("ttl")
        if ttl:
            heapq.heappush(self._ttl_heap, (float(value.get("ts", 0)) + float(ttl) * 1000, key))

    def newly_expired(self, now_ms: float) -> list[str]:
        """Ids of messages whose time to live ran out since the last call (costs what expired, not the history)."""
        out: list[str] = []
        heap = self._ttl_heap
        while heap and heap[0][0] <= now_ms:
            out.append(heapq.heappop(heap)[1])
        for channel in self.channels():
            if not channel.ttl:
                continue
            lst = self._index.get(channel.id, [])
            cutoff = now_ms - channel.ttl * 1000
            mark = self._ttl_mark.get(channel.id, float("-inf"))
            if cutoff <= mark:
                continue
            lo = bisect.bisect_right(lst, (mark, "\U0010ffff"))
            hi = bisect.bisect_right(lst, (cutoff, "\U0010ffff"))
            out.extend(key for _, key in lst[lo:hi])
            self._ttl_mark[channel.id] = cutoff
        return out

    def newly_deleted(self) -> list[str]:
        """Ids of messages deleted since the last call."""
        out, self._new_deletions = self._new_deletions, []
        return out

    def expired(self, now_ms: float) -> list[str]:
        """Ids of messages whose time to live has run out."""
        ttls = {c.id: c.ttl for c in self.channels() if c.ttl}
        out = []
        for key, value in self.maps[MESSAGES].items():
            if not isinstance(value, dict):
                continue
            ttl = value.get("ttl") or ttls.get(str(value.get("c")))
            if ttl and float(value.get("ts", 0)) + float(ttl) * 1000 <= now_ms:
                out.append(key)
        return out

    def _build(self, key: str, value: dict[str, Any], now_ms: float | None, channel_ttl: float | None = None) -> Message | None:
        ttl = value.get("ttl") or channel_ttl
        ts = float(value.get("ts", 0))
        if ttl and now_ms is not None and ts + float(ttl) * 1000 <= now_ms:
            return None
        msg = Message(
            id=key, author=_author(key), channel=str(value.get("c")), text=str(value.get("t", "")), ts=ts,
            reply_to=value.get("r"), thread=value.get("th"), forward=value.get("f"),
            ttl=float(ttl) if ttl else None, mentions=list(value.get("mn", []) or []),
            attachments=list(value.get("a", []) or []),
        )
        author = msg.author
        maps = self.maps
        edit_keys = self._tables[EDITS].get(key)
        if edit_keys:
            edits = []
            for ek in edit_keys:
                ev = maps[EDITS].get(ek)
                if isinstance(ev, dict):
                    edits.append(Edit(ek, str(ev.get("t", "")), float(ev.get("ts", 0)), _author(ek)))
            edits.sort(key=lambda e: (e.ts, e.eid))
            if edits:
                msg.edits = [Edit(key, msg.text, ts, author)] + edits
                msg.text = edits[-1].text
        self._add_reactions_and_pins(key, msg)
        if key in self._deleted:
            msg.deleted = True
            msg.text = ""
            msg.edits = []
            msg.attachments = []
        return msg

    def _add_reactions_and_pins(self, key: str, msg: Message) -> None:
        maps = self.maps
        for rk in self._tables[REACTIONS].get(key, ()):
            rv = maps[REACTIONS].get(rk)
            if isinstance(rv, dict):
                emoji, who = str(rv.get("e")), _author(rk)
                lst = msg.reactions.setdefault(emoji, [])
                if who not in lst:
                    lst.append(who)
                msg.reaction_ids.setdefault((emoji, who), []).append(rk)
        pins = self._tables[PINS].get(key)
        if pins:
            msg.pinned = True
            msg.pin_ids = list(pins)

    def pinned(self, channel: str | None = None) -> list[Message]:
        out = []
        for target in list(self._tables[PINS]):
            msg = self.message(target)
            if msg is not None and msg.pinned and not msg.deleted and (channel is None or msg.channel == channel):
                out.append(msg)
        out.sort(key=lambda m: (m.ts, m.id))
        return out

    def thread(self, root: str) -> list[Message]:
        out = []
        for key, value in self.maps[MESSAGES].items():
            if isinstance(value, dict) and value.get("th") == root:
                msg = self.message(key)
                if msg is not None:
                    out.append(msg)
        out.sort(key=lambda m: (m.ts, m.id))
        return out
