"""What a profile's database holds besides the log: view snapshots, recorded equivocations, favorites and read marks."""

from __future__ import annotations

from .entry import Entry, decode_one
from .errors import DecodeError
from .store_base import StoreBase


class LocalState(StoreBase):
    """The snapshot, equivocation and local-only tables of a `Store` (crdt/store.py)."""

    def save_snapshot(self, room_id: bytes, upto: int, state: bytes) -> None:
        with self.lock:
            rid = self.room_rowid(room_id)
            self._run("BEGIN IMMEDIATE")
            try:
                self._run("INSERT OR REPLACE INTO snapshots VALUES(?,?,?)", (rid, upto, state))
                self._run("UPDATE rooms SET stale_snapshot=0 WHERE id=?", (rid,))
                self._run("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def snapshot(self, room_id: bytes) -> tuple[int, bytes] | None:
        with self.lock:
            row = self._run("SELECT upto, state FROM snapshots WHERE room=?", (self.room_rowid(room_id),)).fetchone()
        return (int(row[0]), bytes(row[1])) if row else None

    def snapshot_stale(self, room_id: bytes) -> bool:
        """Whether entries changed standing after the last snapshot was saved (it must not be trusted)."""
        with self.lock:
            row = self._run("SELECT stale_snapshot FROM rooms WHERE id=?", (self.room_rowid(room_id),)).fetchone()
        return bool(row and row[0])

    def record_equivocation(self, room_id: bytes, author: bytes, seq: int, first: bytes, second: bytes) -> None:
        with self.lock:
            self._run("INSERT INTO equivocations VALUES(?,?,?,?,?)", (self.room_rowid(room_id), author, seq, first, second))

    def fork_entries(self, room_id: bytes) -> list[Entry]:
        """The second entries of recorded equivocations (the proofs)."""
        with self.lock:
            rid = self.room_rowid(room_id)
            rows = self._run("SELECT second FROM equivocations WHERE room=?", (rid,)).fetchall()
        out = []
        for (raw,) in rows:
            try:
                out.append(decode_one(bytes(raw)))
            except DecodeError:
                continue
        return out

    def forks(self, room_id: bytes) -> dict[bytes, int]:
        """Authors caught equivocating, with the first sequence number they forked at."""
        with self.lock:
            rid = self.room_rowid(room_id)
            rows = self._run("SELECT author, MIN(seq) FROM equivocations WHERE room=? GROUP BY author", (rid,)).fetchall()
        return {bytes(a): int(s) for a, s in rows}

    def set_favorite(self, room_id: bytes, message: str, on: bool) -> None:
        with self.lock:
            rid = self.room_rowid(room_id)
            if on:
                self._run("INSERT OR IGNORE INTO favorites VALUES(?,?)", (rid, message))
            else:
                self._run("DELETE FROM favorites WHERE room=? AND message=?", (rid, message))

    def favorites(self, room_id: bytes) -> set[str]:
        with self.lock:
            rid = self.room_rowid(room_id)
            return {str(m) for (m,) in self._run("SELECT message FROM favorites WHERE room=?", (rid,))}

    def set_read_mark(self, room_id: bytes, channel: str, upto_ms: float) -> None:
        with self.lock:
            self._run("INSERT OR REPLACE INTO read_marks VALUES(?,?,?)", (self.room_rowid(room_id), channel, upto_ms))

    def read_marks(self, room_id: bytes) -> dict[str, float]:
        with self.lock:
            rid = self.room_rowid(room_id)
            return {str(c): float(u) for c, u in self._run("SELECT channel, upto_ms FROM read_marks WHERE room=?", (rid,))}
