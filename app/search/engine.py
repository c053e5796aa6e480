"""Running a search over a node's rooms: filters resolved against each room, candidates checked against its view.

The index answers in its own numbers; this module turns `from:alice` into the authors called alice in
each room, `in:#general` into each room's channels of that name, and every candidate row into the
message as the room shows it now (a message that expired a moment ago, or whose row is stale, is left
out), with its snippet.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crdt.schema import short_id
from crdt.view import Message

from .index import MARK_CLOSE, MARK_OPEN, NAME_AUTHOR, NAME_CHANNEL, Scope, SearchIndex
from .query import Query, parse_query

if TYPE_CHECKING:
    from ..room import Room

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Hit:
    """A message found: where it is, as the room shows it, and its snippet (matches between MARK_OPEN and MARK_CLOSE)."""

    room: Room
    message: Message
    channel_name: str
    snippet: str

    def marked(self, before: str = "«", after: str = "»") -> str:
        """The snippet with the matched words between `before` and `after`."""
        return self.snippet.replace(MARK_OPEN, before).replace(MARK_CLOSE, after)


def _authors_named(room: Room, name: str) -> set[str]:
    """Short ids of the members (and former members) called `name`, or whose id or key starts with it."""
    wanted = name.strip().lower()
    state = room.log.state()
    found: set[str] = set()
    for key, member in [*state.members.items(), *state.former.items()]:
        short = short_id(key)
        if (member.name or "").lower() == wanted or short.lower() == wanted or (len(wanted) >= 4 and key.hex().startswith(wanted)):
            found.add(short)
    if not found:  # a unique start of a name ("ali" for alice) is good enough
        found = {short_id(k) for k, m in [*state.members.items(), *state.former.items()] if (m.name or "").lower().startswith(wanted)}
    return found


def _channels_named(room: Room, name: str) -> set[str]:
    wanted = name.strip().lower()
    return {c.id for c in room.channels() if c.id.lower() == wanted or c.name.lower() == wanted}


def scope_for(index: SearchIndex, rooms: Sequence[Room], query: Query) -> Scope:
    """The query's filters in the index's numbers, over `rooms`."""
    scope = Scope([index.room_idx(r.id) for r in rooms])
    if query.authors:
        authors: set[int] = set()
        for room in rooms:
            for name in query.authors:
                for short in _authors_named(room, name):
                    idx = index.name_idx(NAME_AUTHOR, short, create=False)
                    if idx is not None:
                        authors.add(idx)
        scope.authors = sorted(authors)
    if query.channels:
        pairs: set[tuple[int, int]] = set()
        for room in rooms:
            for name in query.channels:
                for cid in _channels_named(room, name):
                    idx = index.name_idx(NAME_CHANNEL, cid, create=False)
                    if idx is not None:
                        pairs.add((index.room_idx(room.id), idx))
        scope.channels = sorted(pairs)
    return scope


def run_search(index: SearchIndex, rooms: Sequence[Room], text: str | Query, limit: int = DEFAULT_LIMIT,
               now_ms: float | None = None) -> list[Hit]:
    """The messages of `rooms` that match, newest first (QueryError for a filter that cannot be read)."""
    query = parse_query(text) if isinstance(text, str) else text
    if query.empty:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    now = time.time() * 1000.0 if now_ms is None else now_ms
    by_id = {r.id: r for r in rooms}
    scope = scope_for(index, rooms, query)
    hits: list[Hit] = []
    fetch = limit + 8
    while True:
        candidates = index.find(query, scope, fetch)
        hits = []
        for c in candidates:
            room = by_id.get(c.room_id)
            if room is None:
                continue
            msg = room.view.message(c.message_id, now)
            if msg is None or msg.deleted:
                continue  # expired since it was indexed (the purge takes it out of the index soon)
            hits.append(Hit(room, msg, _channel_name(room, msg.channel), c.snippet or msg.text[:120]))
            if len(hits) >= limit:
                break
        if len(hits) >= limit or len(candidates) < fetch or fetch >= 4 * MAX_LIMIT:
            break
        fetch *= 4  # many candidates were not shown any more: look further
    hits.sort(key=lambda h: (h.message.ts, h.message.id), reverse=True)
    return hits[:limit]


def _channel_name(room: Room, channel: str) -> str:
    for c in room.channels():
        if c.id == channel:
            return c.name
    return channel
