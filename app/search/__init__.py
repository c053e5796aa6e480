"""Local full-text search over every room of a profile: the index file, its feed from the rooms, the query language.

`ProfileSearch` is what the node holds: it follows each room it opens (`follow`) and answers
`search(rooms, text)`. See docs/search.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import SEARCH_FILE
from .engine import DEFAULT_LIMIT, Hit, run_search
from .feed import IndexFeed
from .index import SearchIndex, SearchUnavailable
from .query import Query, QueryError, parse_query

if TYPE_CHECKING:
    from ..room import Room


class ProfileSearch:
    """The search index of one profile, kept current by the rooms it follows."""

    def __init__(self, profile_dir: Path) -> None:
        self.index = SearchIndex(profile_dir / SEARCH_FILE)
        self.feed = IndexFeed(self.index)

    def follow(self, room: Room) -> None:
        self.feed.follow(room)

    def prepare(self, rooms: Sequence[Room]) -> int:
        """Index from scratch the rooms whose index is not current (a profile from before search); returns how many messages."""
        return sum(self.feed.ensure_current(r) for r in rooms)

    def search(self, rooms: Sequence[Room], text: str | Query, limit: int = DEFAULT_LIMIT) -> list[Hit]:
        """The messages of `rooms` that match `text`, newest first; QueryError says what in the query is wrong."""
        self.prepare(rooms)
        return run_search(self.index, rooms, text, limit)

    def close(self) -> None:
        self.feed.flush()
        self.index.close()


__all__ = ["DEFAULT_LIMIT", "Hit", "ProfileSearch", "Query", "QueryError", "SearchUnavailable", "parse_query"]
