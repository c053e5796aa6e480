"""The search index: an SQLite FTS5 table over the decrypted text of every room's messages, in its own file.

`search.sqlite` in the profile folder holds, per message, a row of `msgs` (room, author, sequence
number, channel, flags and the text now shown) and the FTS5 index over that text (an external-content
table, kept in step here: by rows, or a room's rows in one statement, which is 5x faster than a
trigger per row). It is derived data: damaged or from another version, it is thrown
away and built again from the rooms.

Row ids grow with the message's time (its second since 2000, times 4096, plus a spot within that second
picked from the message's identity), so "newest first" is FTS5's own `ORDER BY rowid DESC` and a search
stops after `limit` rows; seconds rather than milliseconds keep the rowid deltas in FTS5's doclists short.

Removed text must not linger (docs/search.md). SQLite here is 3.40, whose FTS5 has neither the
`secure-delete` option (3.42) nor `contentless_delete` (3.43): a deleted row's tokens stay in the
older index segments until those are merged. So `secure_delete` is on (freed pages and cells are
zeroed) and `erase()`, run when the rooms purge expired and deleted messages, merges every segment
into one (`optimize`: about 40 ms for 100k messages), gives the free pages back and truncates the
write-ahead log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from crdt.schema import b36

from ..errors import HubbubError
from .query import Query, match_expression

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
FILE = 1      # flags: the message has attachments
LINK = 2      # ... a link
PINNED = 4    # ... is pinned
EPOCH_S = 946_684_800  # 2000-01-01: row ids count seconds from here (earlier times share row id 0's second)
MAX_S = 2**40 - 1      # seconds: later times are clamped into the row id
SLOT = 1 << 12         # row ids per second
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # around matched words in snippets
LINK_RE = re.compile(r"(?i)(?:\bhttps?://|\bwww\.|\bhubbub://)\S")
NAME_AUTHOR, NAME_CHANNEL = 0, 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rooms(idx INTEGER PRIMARY KEY, rid BLOB UNIQUE NOT NULL, upto INTEGER NOT NULL DEFAULT -1);
CREATE TABLE IF NOT EXISTS names(idx INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE(kind, name));
CREATE TABLE IF NOT EXISTS msgs(rowid INTEGER PRIMARY KEY, room INTEGER NOT NULL, author INTEGER NOT NULL,
    seq INTEGER NOT NULL, ch INTEGER NOT NULL, flags INTEGER NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS msgs_key ON msgs(room, author, seq);
CREATE INDEX IF NOT EXISTS msgs_flagged ON msgs(flags) WHERE flags != 0;
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, content='msgs', content_rowid='rowid', columnsize=0,
    tokenize='unicode61 remove_diacritics 2');
"""


class SearchUnavailable(HubbubError):
    """The index file cannot be used (the disk is full, the folder is read-only); the message is a sentence."""


@dataclass(frozen=True, slots=True)
class Doc:
    """One message as the index holds it."""

    author: str   # short id
    seq: int
    channel: str  # channel id
    ts: float
    flags: int
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A row the index found, newest first; the caller checks it against the room's view."""

    room_id: bytes
    message_id: str
    channel: str
    ts: float
    snippet: str  # with MARK_OPEN / MARK_CLOSE around matched words ("" for a search without words)


@dataclass(slots=True)
class Scope:
    """Where to look, in the index's own numbers: rooms, and (room, channel) pairs and authors when filtered."""

    rooms: list[int]
    channels: list[tuple[int, int]] | None = None  # None: any channel
    authors: list[int] | None = None               # None: anyone


def flags_for(text: str, *, files: bool, pinned: bool) -> int:
    """The index flags of a message with this text."""
    return (FILE if files else 0) | (LINK if LINK_RE.search(text) else 0) | (PINNED if pinned else 0)


def _spot(room_idx: int, author: int, seq: int) -> int:
    """Where in its second a message's row id falls first (spread so that two rarely meet)."""
    return (room_idx * 40503 + author * 2654435761 + seq * 97) % SLOT


def row_base(ts: float) -> int:
    """The first row id of the second a message was written in (`ts` in ms)."""
    try:
        sec = int(ts // 1000) - EPOCH_S
    except (OverflowError, ValueError):
        sec = 0
    return min(max(sec, 0), MAX_S) * SLOT


class SearchIndex:
    """The profile's search index file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._erase_due = False
        self._names: dict[tuple[int, str], int] = {}
        self._by_idx: dict[int, str] = {}
        self._rooms: dict[bytes, int] = {}
        try:
            try:
                self.db = self._open()
            except sqlite3.OperationalError:
                raise  # the disk, not the file (full, read-only, I/O): keep the file, search is unavailable for now
            except sqlite3.DatabaseError as exc:
                log.warning("the search index %s is damaged or from another version (%s); it is built again", path, exc)
                self._discard()
                self.db = self._open()
        except (sqlite3.Error, OSError) as exc:
            raise SearchUnavailable(f"Search is not available: its index {path} cannot be opened ({exc}).") from exc

    def _open(self) -> sqlite3.Connection:
        fresh = not self.path.exists()
        if fresh:  # made private before SQLite opens it: its -wal and -shm files take the same mode
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10)
        try:
            if fresh:
                db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # erase() gives freed pages back to the file system
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # derived data: rebuilt from the rooms if a crash loses some
            db.execute("PRAGMA secure_delete=ON")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT v FROM meta WHERE k='schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"index format {row[0]}")  # not an OperationalError: built again
            for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                with contextlib.suppress(OSError):
                    os.chmod(p, 0o600)
        except BaseException:
            db.close()
            raise
        return db

    def _discard(self) -> None:
        for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.erase()
            self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (nested uses join the outer one)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ----- numbers ---------------------------------------------------------------------------

    def room_idx(self, room_id: bytes) -> int:
        idx = self._rooms.get(room_id)
        if idx is None:
            self.db.execute("INSERT OR IGNORE INTO rooms(rid) VALUES(?)", (room_id,))
            idx = self._rooms[room_id] = int(self.db.execute("SELECT idx FROM rooms WHERE rid=?", (room_id,)).fetchone()[0])
        return idx

    def room_ids(self) -> dict[int, bytes]:
        return {int(i): bytes(r) for i, r in self.db.execute("SELECT idx, rid FROM rooms")}

    def name_idx(self, kind: int, name: str, create: bool = True) -> int | None:
        key = (kind, name)
        idx = self._names.get(key)
        if idx is None:
            if create:
                self.db.execute("INSERT OR IGNORE INTO names(kind, name) VALUES(?,?)", key)
            row = self.db.execute("SELECT idx FROM names WHERE kind=? AND name=?", key).fetchone()
            if row is None:
                return None
            idx = self._names[key] = int(row[0])
        return idx

    def _name_of(self, idx: int) -> str:
        name = self._by_idx.get(idx)
        if name is None:
            row = self.db.execute("SELECT name FROM names WHERE idx=?", (idx,)).fetchone()
            name = self._by_idx[idx] = str(row[0]) if row else ""
        return name

    def upto(self, room_idx: int) -> int:
        """How far into the room's stored entries (the store's insertion number) the index is known to be current."""
        row = self.db.execute("SELECT upto FROM rooms WHERE idx=?", (room_idx,)).fetchone()
        return int(row[0]) if row else -1

    def set_upto(self, room_idx: int, upto: int) -> None:
        self.db.execute("UPDATE rooms SET upto=? WHERE idx=?", (upto, room_idx))

    # ----- writing ---------------------------------------------------------------------------

    def put(self, room_idx: int, doc: Doc) -> None:
        """Index a message as it is now shown (its newest text), replacing what was indexed for it."""
        author = self._idx(NAME_AUTHOR, doc.author)
        ch = self._idx(NAME_CHANNEL, doc.channel)
        row = self.db.execute("SELECT rowid, ch, flags, body FROM msgs WHERE room=? AND author=? AND seq=?",
                              (room_idx, author, doc.seq)).fetchone()
        if row is None:
            rid = self._free_rowid(room_idx, author, doc)
            self.db.execute("INSERT INTO msgs VALUES(?,?,?,?,?,?,?)", (rid, room_idx, author, doc.seq, ch, doc.flags, doc.text))
            self.db.execute("INSERT INTO fts(rowid, body) VALUES(?,?)", (rid, doc.text))
            return
        if row[3] != doc.text:
            self.db.execute("INSERT INTO fts(fts, rowid, body) VALUES('delete', ?, ?)", (row[0], row[3]))
            self.db.execute("UPDATE msgs SET body=?, ch=?, flags=? WHERE rowid=?", (doc.text, ch, doc.flags, row[0]))
            self.db.execute("INSERT INTO fts(rowid, body) VALUES(?,?)", (row[0], doc.text))
            self._erase_due = True  # the old text's tokens stay in the index segments until they merge
        elif (row[1], row[2]) != (ch, doc.flags):
            self.db.execute("UPDATE msgs SET ch=?, flags=? WHERE rowid=?", (ch, doc.flags, row[0]))

    def _idx(self, kind: int, name: str) -> int:
        idx = self.name_idx(kind, name)
        assert idx is not None
        return idx

    def _free_rowid(self, room_idx: int, author: int, doc: Doc) -> int:
        """A row id in the message's second that no row has: a spot picked from the message's identity, else
        the next free one (a second holding 4096 messages, a flood with one time, spills over)."""
        rid = row_base(doc.ts) + _spot(room_idx, author, doc.seq)
        if self.db.execute("SELECT 1 FROM msgs WHERE rowid=?", (rid,)).fetchone() is None:
            return rid
        rid = row_base(doc.ts)
        while True:
            top = self.db.execute("SELECT max(rowid) FROM msgs WHERE rowid >= ? AND rowid < ?", (rid, rid + SLOT)).fetchone()[0]
            if top is None:
                return rid
            if top + 1 < rid + SLOT:
                return int(top) + 1
            rid += SLOT

    def remove(self, room_idx: int, keys: Iterable[tuple[str, int]]) -> int:
        """Take messages, named by (author short id, seq), out of the index; returns how many were in it."""
        gone = 0
        for short, seq in keys:
            author = self.name_idx(NAME_AUTHOR, short, create=False)
            if author is None:
                continue
            row = self.db.execute("SELECT rowid, body FROM msgs WHERE room=? AND author=? AND seq=?", (room_idx, author, seq)).fetchone()
            if row is not None:
                self.db.execute("INSERT INTO fts(fts, rowid, body) VALUES('delete', ?, ?)", row)
                self.db.execute("DELETE FROM msgs WHERE rowid=?", (row[0],))
                gone += 1
        if gone:
            self._erase_due = True
        return gone

    def replace_room(self, room_idx: int, docs: Iterable[Doc], upto: int) -> int:
        """Index a room from scratch: what it held before goes; returns how many messages are indexed."""
        rows: list[tuple[int, int, int, int, int, int, str]] = []
        for doc in docs:
            author, ch = self._idx(NAME_AUTHOR, doc.author), self._idx(NAME_CHANNEL, doc.channel)
            rows.append((row_base(doc.ts) + _spot(room_idx, author, doc.seq), room_idx, author, doc.seq, ch, doc.flags, doc.text))
        rows.sort()  # FTS5 writes a segment each time a row id is lower than the one before: insert in order
        with self.transaction():
            self._clear_room(room_idx)
            for at in range(0, len(rows), 5000):
                self._insert_many(rows[at:at + 5000])
            self.db.execute("INSERT INTO fts(rowid, body) SELECT rowid, body FROM msgs WHERE room=? ORDER BY rowid", (room_idx,))
            self.set_upto(room_idx, upto)
        return len(rows)

    def _clear_room(self, room_idx: int) -> None:
        self.db.execute("INSERT INTO fts(fts, rowid, body) SELECT 'delete', rowid, body FROM msgs WHERE room=?", (room_idx,))
        if self.db.execute("DELETE FROM msgs WHERE room=?", (room_idx,)).rowcount:
            self._erase_due = True

    def _insert_many(self, rows: list[tuple[int, int, int, int, int, int, str]]) -> int:
        """Insert rows (not yet in the FTS index) in one statement; any whose row id was taken (two messages in one
        spot) goes one by one."""
        if not rows:
            return 0
        inserted = self.db.executemany("INSERT OR IGNORE INTO msgs VALUES(?,?,?,?,?,?,?)", rows).rowcount
        if inserted < len(rows):
            for rid, room, author, seq, ch, flags, text in rows:
                if self.db.execute("SELECT 1 FROM msgs WHERE room=? AND author=? AND seq=?", (room, author, seq)).fetchone():
                    continue
                doc = Doc(self._name_of(author), seq, self._name_of(ch), (rid // SLOT + EPOCH_S) * 1000.0, flags, text)
                self.db.execute("INSERT INTO msgs VALUES(?,?,?,?,?,?,?)",
                                (self._free_rowid(room, author, doc), room, author, seq, ch, flags, text))
        return len(rows)

    def drop_room(self, room_id: bytes) -> None:
        """Forget a room the profile no longer holds."""
        idx = self._rooms.pop(room_id, None)
        row = self.db.execute("SELECT idx FROM rooms WHERE rid=?", (room_id,)).fetchone()
        if row is None and idx is None:
            return
        with self.transaction():
            self._clear_room(int(row[0]) if row else int(idx or 0))
            self.db.execute("DELETE FROM rooms WHERE rid=?", (room_id,))
        self._erase_due = True

    def erase(self, force: bool = False) -> bool:
        """Make removed text unrecoverable from the files: merge the index into one segment (dropping the
        removed rows' tokens), give free pages back, and empty the write-ahead log. Returns whether it ran."""
        if not (self._erase_due or force):
            return False
        if self.db.in_transaction:
            return False
        self.db.execute("INSERT INTO fts(fts) VALUES('optimize')")
        self.db.executescript("PRAGMA incremental_vacuum;")  # execute() would run one step: free one page
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        self._erase_due = False
        return True

    # ----- reading ---------------------------------------------------------------------------

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM msgs").fetchone()[0])

    def find(self, query: Query, scope: Scope, limit: int = 50) -> list[Candidate]:
        """Rows matching `query` within `scope`, newest first."""
        if not scope.rooms or scope.channels == [] or scope.authors == []:
            return []
        # `+m.room`: never by the room's part of msgs_key, which would read every row of the room and sort them;
        # the plan is FTS5's newest-first walk, or the table's own (row id) order, stopping after `limit` rows.
        where: list[str] = [f"+m.room IN ({','.join('?' * len(scope.rooms))})"]
        args: list[object] = list(scope.rooms)
        if scope.channels is not None:
            where.append(f"(m.room, m.ch) IN (VALUES {','.join(['(?,?)'] * len(scope.channels))})")
            args.extend(x for pair in scope.channels for x in pair)
        if scope.authors is not None:
            where.append(f"+m.author IN ({','.join('?' * len(scope.authors))})")
            args.extend(scope.authors)
        wanted = (FILE if query.has_file else 0) | (LINK if query.has_link else 0) | (PINNED if query.pinned else 0)
        if wanted:
            where.append("m.flags != 0 AND m.flags & ? = ?")
            args.extend((wanted, wanted))
        if query.before_ms is not None:
            where.append("m.rowid < ?")
            args.append(row_base(query.before_ms))
        if query.after_ms is not None:
            where.append("m.rowid >= ?")
            args.append(row_base(query.after_ms))
        positive = match_expression(query.terms)
        negative = " OR ".join(t.fts() for t in query.excluded) or None
        if positive is not None:
            expr = positive if negative is None else f"({positive}) NOT ({negative})"
            sql = (f"SELECT m.room, m.author, m.seq, m.ch, m.rowid, snippet(fts, 0, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 14) "
                   f"FROM fts JOIN msgs m ON m.rowid = fts.rowid WHERE fts MATCH ? AND {' AND '.join(where)} "
                   "ORDER BY fts.rowid DESC LIMIT ?")
            args = [expr, *args, limit]
        else:
            if negative is not None:
                where.append("m.rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
                args.append(negative)
            table = "msgs m INDEXED BY msgs_flagged" if wanted else "msgs m"  # flagged: a few percent of the rows
            sql = (f"SELECT m.room, m.author, m.seq, m.ch, m.rowid, substr(m.body, 1, 120) FROM {table} "
                   f"WHERE {' AND '.join(where)} ORDER BY m.rowid DESC LIMIT ?")
            args.append(limit)
        rooms = self.room_ids()
        out = []
        for room, author, seq, ch, rowid, snippet in self.db.execute(sql, args):
            out.append(Candidate(rooms.get(int(room), b""), self._name_of(int(author)) + b36(int(seq)),
                                 self._name_of(int(ch)), (int(rowid) // SLOT + EPOCH_S) * 1000.0, str(snippet or "")))
        return out

