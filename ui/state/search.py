"""The search pane's logic: the query as typed (debounced), the results grouped by room and channel, and why none.

Widgets read `SearchState` and call `type`/`run`; it emits `results` with `ResultGroup`s, newest group first,
and `problem` with a sentence (a filter that cannot be read, an index that cannot be used).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from app.errors import HubbubError
from app.node import Node
from app.search import Hit
from app.search.index import MARK_CLOSE, MARK_OPEN

from .session import Session

DEBOUNCE_MS = 120  # results as you type: a search after the typing pauses this long
LIMIT = 100


@dataclass(frozen=True, slots=True)
class ResultItem:
    """One message found, ready to show: who, when, and the snippet as HTML with the matched words in bold."""

    room_id: bytes
    message_id: str
    author: str
    when: str
    snippet_html: str


@dataclass(frozen=True, slots=True)
class ResultGroup:
    """The results in one channel of one room, newest first."""

    room_id: bytes
    title: str  # "Weekend LAN Party  ·  #general"
    items: list[ResultItem]


def snippet_html(snippet: str) -> str:
    """The index's snippet as HTML: the text escaped, the matched words bold."""
    out = html.escape(" ".join(snippet.split()))
    return out.replace(MARK_OPEN, "<b>").replace(MARK_CLOSE, "</b>")


def when(ts_ms: float) -> str:
    try:
        return datetime.fromtimestamp(ts_ms / 1000).strftime("%d %b %Y %H:%M")
    except (OverflowError, OSError, ValueError):
        return ""


def group(hits: list[Hit], title_of: dict[bytes, str]) -> list[ResultGroup]:
    """Hits (newest first) grouped by room and channel, the group with the newest hit first."""
    groups: dict[tuple[bytes, str], list[ResultItem]] = {}
    titles: dict[tuple[bytes, str], str] = {}
    for h in hits:
        key = (h.room.id, h.message.channel)
        titles[key] = f"{title_of.get(h.room.id, h.room.name)}  ·  #{h.channel_name}"
        groups.setdefault(key, []).append(ResultItem(h.room.id, h.message.id, h.room.name_of(h.message.author),
                                                     when(h.message.ts), snippet_html(h.snippet)))
    return [ResultGroup(key[0], titles[key], items) for key, items in groups.items()]


class SearchState(QObject):
    """What the search pane shows, from what is typed into it."""

    results = Signal(object)  # list[ResultGroup]
    problem = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.node: Node = session.node
        self.text = ""
        self.groups: list[ResultGroup] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.run)

    def type(self, text: str) -> None:
        """The query changed: search once typing pauses."""
        self.text = text
        self._timer.start()

    def run(self) -> list[ResultGroup]:
        """Search now for what was typed; emits `results` (or `problem`) and returns the groups."""
        self._timer.stop()
        if not self.text.strip():
            self.groups = []
            self.results.emit(self.groups)
            return self.groups
        try:
            hits = self.node.search(self.text, limit=LIMIT)
        except HubbubError as exc:
            self.problem.emit(str(exc))
            return self.groups
        titles = {s.room_id: s.name for s in self.session.summaries()}
        self.groups = group(hits, titles)
        self.results.emit(self.groups)
        return self.groups

    def refresh(self) -> None:
        """Entries arrived: search again if a query is showing (a result may have changed or gone)."""
        if self.text.strip() and not self._timer.isActive():
            self._timer.start()
