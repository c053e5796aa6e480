"""The message list model: one channel's messages, newest page first, older pages fetched as the user scrolls up."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal

from app.models import Message, markdown_plain

PAGE = 60
NEAR = 1000  # a message at most this far above the loaded ones is reached by loading older pages; further: around it
HOT_ROWS = 30  # newest rows re-read eagerly after a change; older ones are re-read when next painted
GROUP_GAP_MS = 7 * 60 * 1000
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


class MessageSource(Protocol):
    """What the model reads: the index-based paging of a room's view (app Room.view fits)."""

    def count(self, channel: str) -> int: ...

    def page(self, channel: str, limit: int, before: int | None = None, now_ms: float | None = None) -> list[Message]: ...

    def message(self, message_id: str, now_ms: float | None = None) -> Message | None: ...


@dataclass(slots=True)
class Row:
    """Everything the painter needs for one message, derived once per change."""

    msg: Message
    author: str
    grouped: bool
    day_break: str  # the date to show above the message, or ""
    new_line: bool
    mentions_me: bool
    mine: bool
    reply: tuple[str, str] | None  # (author name, one-line snippet) of the message replied to
    favorite: bool
    reply_author: str = ""  # short id of the author replied to (for the name's colour)
    heights: dict[tuple[int, int], int] = field(default_factory=dict)  # the painter's row height per (viewport width, epoch)
    expires: float | None = None  # when a disappearing message goes (ms), by its own timer or its channel's
    thread: tuple[int, float] | None = None  # a thread's root: (how many replies, when the last one came, ms)
    highlight: bool = False  # the message a search result or a link jumped to


def _key(m: Message) -> tuple[float, str]:
    return (m.ts, m.id)


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts / 1000).strftime("%A, %d %B %Y")


def one_line(text: str, limit: int = 90) -> str:
    """The text on one line without Markdown marks, shortened to `limit` characters."""
    return markdown_plain(text, limit)


class MessageModel(QAbstractListModel):
    """Loaded messages of one channel, oldest first; `fetchMore` prepends an older page."""

    older_loaded = Signal(int)  # rows prepended
    newer_loaded = Signal(int)  # rows appended at the bottom

    def __init__(self, me: str, name_of: Callable[[str], str] = lambda s: s, *, fold_threads: bool = True) -> None:
        super().__init__()
        self.me = me
        # In a channel, replies in a thread are not rows: their root counts them ("3 replies"). They all come
        # after the root, and the newest page is always loaded, so every reply of a loaded root is seen here.
        self.fold_threads = fold_threads
        self._threads: dict[str, dict[str, float]] = {}  # root id -> {reply id: its time}
        self.name_of = name_of
        self.source: MessageSource | None = None
        self.channel = ""
        self.read_mark = 0.0
        self.favorites: set[str] = set()
        self.channel_ttl: float | None = None  # seconds: the channel's disappearing-messages setting
        self.fetch_gate: Callable[[], bool] = lambda: True
        self._msgs: list[Message] = []
        self._keys: list[tuple[float, str]] = []
        self._ids: dict[str, int] = {}
        self._start = 0  # view position of the oldest loaded message (approximate when messages expired)
        self._end: int | None = None  # view position after the newest loaded one, when that is not the newest (a jump)
        self._count = 0
        self.highlight: str | None = None
        self._rows: dict[str, Row] = {}
        self._stale: set[str] = set()
        self._fix = QTimer(self)
        self._fix.setSingleShot(True)
        self._fix.setInterval(0)
        self._fix.timeout.connect(self._emit_fixed)
        self._fixed: set[str] = set()

    # ----- loading ---------------------------------------------------------------------------

    def set_channel(self, source: MessageSource | None, channel: str, *, read_mark: float = 0.0,
                    favorites: set[str] | None = None, name_of: Callable[[str], str] | None = None,
                    ttl: float | None = None, around: str | None = None) -> None:
        """Show a channel: load its newest page only (`ttl`: the channel's disappearing-messages setting), or with
        `around`, the page around that message, highlighted (newer pages load as the user scrolls down)."""
        if around is not None and source is not None:
            self.source, self.channel = source, channel
            if self.show_around(around, read_mark=read_mark, favorites=favorites, name_of=name_of, ttl=ttl):
                return
        self.beginResetModel()
        self._end, self.highlight = None, None
        self.source, self.channel, self.read_mark, self.channel_ttl = source, channel, read_mark, ttl
        self.favorites = favorites or set()
        if name_of is not None:
            self.name_of = name_of
        self._msgs, self._keys, self._ids, self._rows, self._stale = [], [], {}, {}, set()
        self._threads = {}
        self._count = source.count(channel) if source is not None else 0
        self._start = self._count
        if source is not None:
            page = source.page(channel, PAGE, None, time.time() * 1000)
            self._start = max(0, self._count - len(page))
            self._msgs = self._fold(page)
            self._reindex()
        self.endResetModel()

    def _fold(self, page: list[Message]) -> list[Message]:
        """The messages of `page` that are rows; thread replies are counted under their root instead."""
        if not self.fold_threads:
            return page
        rows = []
        for m in page:
            if m.thread and m.thread != m.id:
                self._threads.setdefault(m.thread, {})[m.id] = m.ts
            else:
                rows.append(m)
        return rows

    def thread_replies(self, root: str) -> list[str]:
        """The ids of the replies in the thread under `root`, oldest first."""
        replies = self._threads.get(root, {})
        return sorted(replies, key=lambda mid: (replies[mid], mid))

    def _thread_grew(self, roots: set[str]) -> None:
        for root in roots:
            row = self._ids.get(root)
            self._rows.pop(root, None)
            if row is not None:
                self.dataChanged.emit(self.index(row), self.index(row))

    def _reindex(self) -> None:
        self._keys = [_key(m) for m in self._msgs]
        self._ids = {m.id: i for i, m in enumerate(self._msgs)}

    def show_around(self, message_id: str, *, read_mark: float | None = None, favorites: set[str] | None = None,
                    name_of: Callable[[str], str] | None = None, ttl: float | None = None) -> bool:
        """Load the page around a message of the channel (it in the middle) and highlight it; False if it is not there."""
        position = getattr(self.source, "position", None)
        pos = position(message_id) if position is not None else None
        if self.source is None or pos is None:
            return False
        self.beginResetModel()
        if read_mark is not None:
            self.read_mark = read_mark
        if favorites is not None:
            self.favorites = favorites
        if name_of is not None:
            self.name_of = name_of
        if ttl is not None:
            self.channel_ttl = ttl
        self._rows, self._stale, self._threads = {}, set(), {}
        self._count = self.source.count(self.channel)
        end = min(self._count, pos + PAGE // 2 + 1)
        page = self.source.page(self.channel, PAGE, end, time.time() * 1000)
        self._start = max(0, end - len(page))
        self._end = end if end < self._count else None
        self._msgs = self._fold(page)
        self._reindex()
        self.highlight = message_id
        self.endResetModel()
        return True

    def has_older(self) -> bool:
        return self.source is not None and self._start > 0

    def has_newer(self) -> bool:
        """Whether newer messages than the loaded ones exist (after a jump into the past)."""
        return self.source is not None and self._end is not None and self._end < self._count

    def fetch_newer(self, n: int = PAGE) -> int:
        """Append up to `n` newer messages (after a jump); returns how many rows were added."""
        if self.source is None or self._end is None:
            return 0
        end = min(self._count, self._end + n)
        page = self.source.page(self.channel, n, end, time.time() * 1000)
        last = self._keys[-1] if self._keys else (float("-inf"), "")
        fresh = [m for m in self._fold(page) if m.id not in self._ids and _key(m) > last]
        self._end = end if end < self._count else None
        if fresh:
            self.beginInsertRows(QModelIndex(), len(self._msgs), len(self._msgs) + len(fresh) - 1)
            self._msgs.extend(fresh)
            self._reindex()
            self.endInsertRows()
        return len(fresh)

    def far(self, message_id: str) -> bool:
        """Whether a message that is not loaded is too far to load older pages down to it (then: `show_around` it)."""
        position = getattr(self.source, "position", None)
        pos = position(message_id) if position is not None and message_id not in self._ids else None
        return pos is not None and (self._end is not None or pos > self._start or pos < self._start - NEAR)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self.has_older() and self.fetch_gate()

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        self.fetch_older()

    def fetch_older(self, n: int = PAGE) -> int:
        """Prepend up to `n` older messages; returns how many rows were added."""
        if self.source is None or self._start <= 0:
            return 0
        page = self.source.page(self.channel, n, self._start, time.time() * 1000)
        self._start = max(0, self._start - max(len(page), 1))
        fresh = [m for m in self._fold(page) if m.id not in self._ids]
        if not fresh:
            return 0
        if self._msgs:
            self._rows.pop(self._msgs[0].id, None)  # its grouping and date line depend on what precedes it
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._msgs[:0] = fresh
        self._reindex()
        self.endInsertRows()
        self.older_loaded.emit(len(fresh))
        return len(fresh)

    def load_until(self, message_id: str, max_rows: int = 20_000) -> int | None:
        """Load older pages until `message_id` is loaded (or `max_rows` are); returns its row."""
        while message_id not in self._ids and self.has_older() and len(self._msgs) < max_rows:
            if self.fetch_older(500) == 0 and self._start <= 0:
                break
        return self._ids.get(message_id)

    def refresh(self, visible: range | None = None) -> None:
        """Pick up what changed in the channel: new messages are inserted, changed ones re-read."""
        if self.source is None:
            return
        now = time.time() * 1000
        count = self.source.count(self.channel)
        grown, self._count = count - self._count, count
        if grown > 0 and self._end is None:  # after a jump, the newest are not loaded: they come on scrolling down
            self._insert_new(self.source.page(self.channel, grown + 5, None, now))
        hot = set(range(max(0, len(self._msgs) - HOT_ROWS), len(self._msgs)))
        if visible is not None:
            hot.update(r for r in visible if 0 <= r < len(self._msgs))
        self._stale = {m.id for i, m in enumerate(self._msgs) if i not in hot}
        for row in sorted(hot):
            self._reread(row, now)

    def _insert_new(self, page: list[Message]) -> None:
        added_at_end = 0
        before = {root: len(replies) for root, replies in self._threads.items()}
        page = self._fold(page)
        self._thread_grew({root for root, replies in self._threads.items() if len(replies) != before.get(root, 0)})
        for m in page:
            if m.id in self._ids:
                continue
            pos = bisect.bisect(self._keys, _key(m))
            if pos == 0 and self.has_older():
                continue  # older than what is loaded; it appears when the user scrolls up
            if pos < len(self._msgs):
                self._rows.pop(self._msgs[pos].id, None)
            else:
                added_at_end += 1
            self.beginInsertRows(QModelIndex(), pos, pos)
            self._msgs.insert(pos, m)
            self._keys.insert(pos, _key(m))
            self.endInsertRows()
            if pos == len(self._msgs) - 1:
                self._ids[m.id] = pos
            else:
                self._ids = {x.id: i for i, x in enumerate(self._msgs)}
        if added_at_end:
            self.newer_loaded.emit(added_at_end)

    def _reread(self, row: int, now: float) -> bool:
        old = self._msgs[row]
        assert self.source is not None
        new = self.source.message(old.id, now)
        if new is None:  # it expired (or was purged): it leaves the list
            self._remove(row)
            return True
        if new == old:
            return False
        self._msgs[row] = new
        self._rows.pop(old.id, None)
        if row + 1 < len(self._msgs):
            self._rows.pop(self._msgs[row + 1].id, None)
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)
        return True

    def _remove(self, row: int) -> None:
        gone = self._msgs[row]
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._msgs[row]
        self._rows.pop(gone.id, None)
        if row < len(self._msgs):
            self._rows.pop(self._msgs[row].id, None)  # its grouping and date line depended on the one removed
        self._reindex()
        self.endRemoveRows()

    def expiry(self, msg: Message) -> float | None:
        """When a message disappears (ms since the epoch), or None when it stays."""
        ttl = msg.ttl or self.channel_ttl
        return msg.ts + ttl * 1000 if ttl else None

    def drop_expired(self, now_ms: float) -> float | None:
        """Remove the loaded messages whose time ran out; returns when the next one goes (None: none will)."""
        soonest: float | None = None
        for row in range(len(self._msgs) - 1, -1, -1):
            when = self.expiry(self._msgs[row])
            if when is None:
                continue
            if when <= now_ms:
                self._remove(row)
            elif soonest is None or when < soonest:
                soonest = when
        return soonest

    def _emit_fixed(self) -> None:
        fixed, self._fixed = self._fixed, set()
        for mid in fixed:
            row = self._ids.get(mid)
            if row is not None:
                idx = self.index(row)
                self.dataChanged.emit(idx, idx)

    # ----- reading ---------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._msgs)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._msgs):
            return None
        if role == ROW_ROLE:
            return self.row(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._msgs[index.row()].text
        return None

    def message_at(self, row: int) -> Message:
        return self._msgs[row]

    def row_of(self, message_id: str) -> int | None:
        return self._ids.get(message_id)

    def messages(self) -> list[Message]:
        return list(self._msgs)

    def row(self, i: int) -> Row:
        """The painter's view of row `i` (cached until the message or its neighbour changes)."""
        msg = self._msgs[i]
        if msg.id in self._stale and self.source is not None:
            self._stale.discard(msg.id)
            if self._reread_quiet(i):
                msg = self._msgs[i]
        cached = self._rows.get(msg.id)
        if cached is not None and cached.msg is msg:
            return cached
        prev = self._msgs[i - 1] if i > 0 else None
        day = _day(msg.ts)
        day_break = day if prev is None or _day(prev.ts) != day else ""
        grouped = (prev is not None and not day_break and prev.author == msg.author and not msg.reply_to
                   and not prev.deleted and not msg.forward and msg.ts - prev.ts < GROUP_GAP_MS)
        new_line = (self.read_mark > 0 and msg.ts > self.read_mark and msg.author != self.me
                    and (prev is None or prev.ts <= self.read_mark))
        if new_line:
            grouped = False
        reply, reply_author = None, ""
        if msg.reply_to:
            target = self.source.message(msg.reply_to) if self.source is not None else None
            if target is None or target.deleted:
                reply = ("", "Original message was deleted")
            else:
                reply, reply_author = (self.name_of(target.author), one_line(target.text)), target.author
        replies = self._threads.get(msg.id) if self.fold_threads else None
        thread = (len(replies), max(replies.values())) if replies else None
        row = Row(msg, self.name_of(msg.author), grouped, day_break, new_line, self.me in msg.mentions,
                  msg.author == self.me, reply, msg.id in self.favorites, reply_author, expires=self.expiry(msg),
                  thread=thread, highlight=msg.id == self.highlight)
        self._rows[msg.id] = row
        return row

    def _reread_quiet(self, row: int) -> bool:
        """Re-read a stale row while painting; a change is announced on the next event-loop turn."""
        old = self._msgs[row]
        assert self.source is not None
        new = self.source.message(old.id, time.time() * 1000)
        if new is None or new == old:
            return False
        self._msgs[row] = new
        self._rows.pop(old.id, None)
        self._fixed.add(new.id)
        self._fix.start()
        return True

    def set_favorite(self, message_id: str, on: bool) -> None:
        (self.favorites.add if on else self.favorites.discard)(message_id)
        self._rows.pop(message_id, None)
        row = self._ids.get(message_id)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row))
