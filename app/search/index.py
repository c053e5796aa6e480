"""The search index: an SQLite FTS5 table over the decrypted text of every room's messages, in its own file.

`search.sqlite` in the profile folder holds, per message, a row of `msgs` (room, author, sequence
number, channel, flags and the text now shown) and the FTS5 index over that text (an external-content
table, kept in step by triggers). It is derived data: damaged or from another version, it is thrown
away and built again from the rooms.

Row ids grow with the message's time (`ts << 16`, plus a small offset when two share a millisecond),
so "newest first" is FTS5's own `ORDER BY rowid DESC` and a search stops after `limit` rows.

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

SCHEMA_VERSION = "1"
FILE = 1      # flags: the message has attachments
LINK = 2      # ... a link
PINNED = 4    # ... is pinned
MAX_TS = 2**46 - 1  # ms (the year 4199): times outside [0, MAX_TS] are clamped into the row id
SLOT = 1 << 16      # row ids per millisecond
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
CREATE TRIGGER IF NOT EXISTS msgs_ai AFTER INSERT ON msgs BEGIN
    INSERT INTO fts(rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER IF NOT EXISTS msgs_ad AFTER DELETE ON msgs BEGIN
    INSERT INTO fts(fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
CREATE TRIGGER IF NOT EXISTS msgs_au AFTER UPDATE OF body ON msgs BEGIN
    INSERT INTO fts(fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO fts(rowid, body) VALUES (new.rowid, new.body);
END;
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


def row_base(ts: float) -> int:
    """The first row id of a message's millisecond."""
    try:
        ms = int(ts)
    except (OverflowError, ValueError):
        ms = 0
    return min(max(ms, 0), MAX_TS) * SLOT


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
                raise sqlite3.DatabaseError(f"index format {row[0]}")
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
        author = self.name_idx(NAME_AUTHOR, doc.author)
        ch = self.name_idx(NAME_CHANNEL, doc.channel)
        row = self.db.execute("SELECT rowid, ch, flags, body FROM msgs WHERE room=? AND author=? AND seq=?",
                              (room_idx, author, doc.seq)).fetchone()
        if row is None:
            self.db.execute("INSERT INTO msgs VALUES(?,?,?,?,?,?,?)",
                            (self._free_rowid(doc.ts), room_idx, author, doc.seq, ch, doc.flags, doc.text))
            return
        if row[3] != doc.text:
            self.db.execute("UPDATE msgs SET body=?, ch=?, flags=? WHERE rowid=?", (doc.text, ch, doc.flags, row[0]))
            self._erase_due = True  # the old text's tokens stay in the index segments until they merge
        elif (row[1], row[2]) != (ch, doc.flags):
            self.db.execute("UPDATE msgs SET ch=?, flags=? WHERE rowid=?", (ch, doc.flags, row[0]))

    def _free_rowid(self, ts: float) -> int:
        rid = row_base(ts)
        while True:
            top = self.db.execute("SELECT max(rowid) FROM msgs WHERE rowid >= ? AND rowid < ?", (rid, rid + SLOT)).fetchone()[0]
            if top is None:
                return rid
            if top + 1 < rid + SLOT:
                return int(top) + 1
            rid += SLOT  # a millisecond holding 65536 messages (a flood with one time): use the next one's

    def remove(self, room_idx: int, keys: Iterable[tuple[str, int]]) -> int:
        """Take messages, named by (author short id, seq), out of the index; returns how many were in it."""
        gone = 0
        for short, seq in keys:
            author = self.name_idx(NAME_AUTHOR, short, create=False)
            if author is None:
                continue
            gone += self.db.execute("DELETE FROM msgs WHERE room=? AND author=? AND seq=?", (room_idx, author, seq)).rowcount
        if gone:
            self._erase_due = True
        return gone

    def replace_room(self, room_idx: int, docs: Iterable[Doc], upto: int) -> int:
        """Index a room from scratch: what it held before goes; returns how many messages are indexed."""
        count = 0
        with self.transaction():
            if self.db.execute("DELETE FROM msgs WHERE room=?", (room_idx,)).rowcount:
                self._erase_due = True
            for doc in docs:
                self.put(room_idx, doc)
                count += 1
            self.set_upto(room_idx, upto)
        return count

    def drop_room(self, room_id: bytes) -> None:
        """Forget a room the profile no longer holds."""
        idx = self._rooms.pop(room_id, None)
        row = self.db.execute("SELECT idx FROM rooms WHERE rid=?", (room_id,)).fetchone()
        if row is None and idx is None:
            return
        with self.transaction():
            self.db.execute("DELETE FROM msgs WHERE room=?", (int(row[0]) if row else idx,))
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
        self.db.execute("PRAGMA incremental_vacuum")
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
        where: list[str] = [f"m.room IN ({','.join('?' * len(scope.rooms))})"]
        args: list[object] = list(scope.rooms)
        if scope.channels is not None:
            where.append(f"(m.room, m.ch) IN (VALUES {','.join(['(?,?)'] * len(scope.channels))})")
            args.extend(x for pair in scope.channels for x in pair)
        if scope.authors is not None:
            where.append(f"m.author IN ({','.join('?' * len(scope.authors))})")
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
            sql = (f"SELECT m.room, m.author, m.seq, m.ch, m.rowid, substr(m.body, 1, 120) FROM msgs m "
                   f"WHERE {' AND '.join(where)} ORDER BY m.rowid DESC LIMIT ?")
            args.append(limit)
        rooms = self.room_ids()
        out = []
        for room, author, seq, ch, rowid, snippet in self.db.execute(sql, args):
            out.append(Candidate(rooms.get(int(room), b""), self._name_of(int(author)) + b36(int(seq)),
                                 self._name_of(int(ch)), float(int(rowid) // SLOT), str(snippet or "")))
        return out

