"""Reading a room's stored entries: by author, by sequence number or by an SQL condition, with their kinds and metadata."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .entry import NO_HASH, Entry
from .store_base import StoreBase


class EntryReads(StoreBase):
    """The entry queries of a `Store` (crdt/store.py)."""

    def entry_kinds(self, room_id: bytes) -> Iterator[tuple[bytes, int, int]]:
        with self.lock:
            rid = self.room_rowid(room_id)
            rows = self._run("SELECT author, seq, kind FROM entries WHERE room=?", (rid,)).fetchall()
        for aid, seq, kind in rows:
            yield self._stored(self._author_keys, aid), int(seq), int(kind)

    def author_entries(self, room_id: bytes, author: bytes, from_seq: int, limit: int) -> list[Entry]:
        """Entries of `author` from `from_seq` on, at most `limit`, in order."""
        with self.lock:
            rid = self.room_rowid(room_id)
            aid = self._known_author_id(author)
            if aid is None:
                return []
            prev = NO_HASH
            if from_seq > 0:
                row = self._run("SELECT hash FROM entries WHERE room=? AND author=? AND seq=?", (rid, aid, from_seq - 1)).fetchone()
                if row is None:
                    return []
                prev = bytes(row[0])
            rows = self._run(
                f"SELECT {self._COLS}, hash FROM entries WHERE room=? AND author=? AND seq>=? ORDER BY seq LIMIT ?",
                (rid, aid, from_seq, limit)).fetchall()
        out = []
        for row in rows:
            out.append(self._entry(room_id, author, row[:7], prev))
            prev = bytes(row[7])
        return out

    def entries_where(self, room_id: bytes, clause: str, args: tuple[object, ...] = ()) -> list[Entry]:
        """Entries matching an SQL condition on the entries table, with their chain links filled in."""
        with self.lock:
            rid = self.room_rowid(room_id)
            rows = self._run(
                f"SELECT e.author, {', '.join('e.' + c.strip() for c in self._COLS.split(','))}, "
                "(SELECT p.hash FROM entries p WHERE p.room=e.room AND p.author=e.author AND p.seq=e.seq-1) "
                f"FROM entries e WHERE e.room=? AND ({clause}) ORDER BY e.n", (rid, *args)).fetchall()
        out = []
        for row in rows:
            prev = bytes(row[8]) if row[8] is not None else NO_HASH
            out.append(self._entry(room_id, self._stored(self._author_keys, row[0]), row[1:8], prev))
        return out

    def all_entries(self, room_id: bytes) -> list[Entry]:
        return self.entries_where(room_id, "1")

    def count(self, room_id: bytes) -> int:
        with self.lock:
            return int(self._run("SELECT COUNT(*) FROM entries WHERE room=?", (self.room_rowid(room_id),)).fetchone()[0])

    def max_n(self, room_id: bytes) -> int:
        """The local insertion number of the room's newest entry (cached; entries only ever grow)."""
        with self.lock:
            return self._max_n_of(self.room_rowid(room_id))

    def author_rows(self, room_id: bytes, author: bytes, columns: str, below: int) -> list[Any]:
        """The given columns of `author`'s stored entries before seq `below`, in order."""
        with self.lock:
            rid = self.room_rowid(room_id)
            aid = self._known_author_id(author)
            if aid is None:
                return []
            return self._run(f"SELECT {columns} FROM entries WHERE room=? AND author=? AND seq<? ORDER BY seq",
                             (rid, aid, below)).fetchall()

    def entry_meta(self, room_id: bytes, author: bytes, below: int) -> list[tuple[int, tuple[bytes, ...], int, int]]:
        """(seq, deps, need, flags) of `author`'s entries before seq `below`, in order."""
        rows = self.author_rows(room_id, author, "seq, deps, need, flags", below)
        out = []
        for seq, deps, need, flags in rows:
            blob = self._stored(self._deps_blobs, int(deps))
            out.append((int(seq), tuple(blob[i : i + 32] for i in range(0, len(blob), 32)), int(need), int(flags)))
        return out

    def entries_at(self, room_id: bytes, author: bytes, seqs: Sequence[int]) -> list[Entry]:
        """The held entries of `author` at these sequence numbers (with their content, if still held)."""
        with self.lock:
            rid = self.room_rowid(room_id)
            aid = self._known_author_id(author)
            if aid is None or not seqs:
                return []
            marks = ",".join("?" * len(seqs))
            rows = self._run(f"SELECT {self._COLS} FROM entries WHERE room=? AND author=? AND seq IN ({marks})",
                             (rid, aid, *seqs)).fetchall()
        return [self._entry(room_id, author, row, NO_HASH) for row in rows]
