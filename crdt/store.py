"""The SQLite store of a profile: rooms, their keys, the entry log and view snapshots.

Every append is one transaction in WAL mode. A durable append (the default) runs
with `synchronous=FULL`: the entry is on disk (fsynced) before `append` returns.
An append with `durable=False` is committed at once (other readers see it, and it
survives the process being killed) and reaches the disk at the next `sync` or
durable write; `written` and `synced` count such commits so a caller can hold back
whatever must wait for the disk.

The connection, its caches and the durability calls are in crdt/store_base.py (the schema and
opening in crdt/store_schema.py), the entry queries in crdt/store_entries.py, and the snapshot,
equivocation and local-only tables in crdt/store_local.py. This module writes rooms and entries.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Sequence

from .entry import Entry, digest
from .errors import StoreError
from .store_entries import EntryReads
from .store_local import LocalState
from .store_schema import FULL_BELOW, SCHEMA_VERSION

__all__ = ["FULL_BELOW", "SCHEMA_VERSION", "Store"]


class Store(EntryReads, LocalState):
    """One profile's database."""

    # ----- rooms ------------------------------------------------------------------------

    def add_room(self, room_id: bytes, name: str, keys: dict[bytes, bytes]) -> None:
        with self.lock:
            self._run("BEGIN IMMEDIATE")
            try:
                self._run("INSERT OR IGNORE INTO rooms(room_id, name, joined_ms) VALUES(?,?,?)", (room_id, name, int(time.time() * 1000)))
                rid = self.room_rowid(room_id)
                for rotation, key in keys.items():
                    self._run("INSERT OR IGNORE INTO room_keys VALUES(?,?,?)", (rid, rotation, key))
                self._run("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def set_room_name(self, room_id: bytes, name: str) -> None:
        with self.lock:
            self._run("UPDATE rooms SET name=? WHERE room_id=?", (name, room_id))

    def set_key(self, room_id: bytes, rotation: bytes, key: bytes) -> None:
        """Keep the key of a rotation; a key already held is never replaced."""
        with self.lock:
            self._run("INSERT OR IGNORE INTO room_keys VALUES(?,?,?)", (self.room_rowid(room_id), rotation, key))

    def forget_room(self, room_id: bytes) -> None:
        """Remove a room and everything held for it (a join that failed leaves nothing behind)."""
        with self.lock:
            rid = self.room_rowid(room_id)
            self._run("BEGIN IMMEDIATE")
            try:
                for table in ("entries", "room_keys", "snapshots", "equivocations", "favorites", "read_marks"):
                    self._run(f"DELETE FROM {table} WHERE room=?", (rid,))
                self._run("DELETE FROM rooms WHERE id=?", (rid,))
                self._run("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self._room_rowids.pop(room_id, None)
            self._max_n.pop(rid, None)

    def rooms(self) -> list[tuple[bytes, str]]:
        with self.lock:
            return [(bytes(r), n) for r, n in self._run("SELECT room_id, name FROM rooms ORDER BY joined_ms, id")]

    def has_room(self, room_id: bytes) -> bool:
        if room_id in self._room_rowids:
            return True
        with self.lock:
            try:
                self.room_rowid(room_id)
            except StoreError:
                return False
        return True

    def keys(self, room_id: bytes) -> dict[bytes, bytes]:
        with self.lock:
            rid = self.room_rowid(room_id)
            return {bytes(r): bytes(k) for r, k in self._run("SELECT rotation, key FROM room_keys WHERE room=?", (rid,))}

    # ----- writing entries ------------------------------------------------------------------

    def append(self, room_id: bytes, entries: list[Entry], kinds: list[int], *, durable: bool = True,
               needs: Sequence[int] | None = None, flags: Sequence[int] | None = None,
               flipped: Sequence[tuple[bytes, int, int]] = ()) -> None:
        """Write accepted entries in one transaction: fsynced before returning, unless `durable` is False
        (then committed, and on disk after the next `sync`)."""
        if not entries:
            return
        with self.lock:
            rid = self.room_rowid(room_id)
            if not durable:
                self._run("PRAGMA synchronous=NORMAL")
            try:
                self._append(rid, entries, kinds, needs or [0] * len(entries), flags or [0] * len(entries), flipped)
            finally:
                if not durable:
                    self.db.execute("PRAGMA synchronous=FULL")
            self.commits += 1
            if durable:
                self.synced = self.written  # a FULL commit syncs the whole WAL, earlier commits too
            else:
                self.written += 1

    def _append(self, rid: int, entries: list[Entry], kinds: list[int], needs: Sequence[int], flags: Sequence[int],
                flipped: Sequence[tuple[bytes, int, int]]) -> None:
        self._run("BEGIN IMMEDIATE")
        try:
            n = self._max_n_of(rid)
            rows = []
            for e, kind, need, flag in zip(entries, kinds, needs, flags):
                n += 1
                rows.append((rid, self._author_id(e.author), e.seq, n, kind, e.hash, e.epoch, self._deps_id(e.deps),
                             e.nonce, e.signature, e.ciphertext, None if e.ciphertext is not None else e.payload_hash,
                             need, flag))
            self.db.executemany("INSERT OR IGNORE INTO entries VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            if flipped:
                self._write_flags(rid, flipped)
            self._run("COMMIT")
            self._max_n[rid] = n
        except sqlite3.OperationalError as exc:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            self._load_ids()
            raise self._write_error(exc, "the new entries were not saved") from exc
        except BaseException:
            self.db.execute("ROLLBACK")
            self._load_ids()
            raise

    def fill_payload(self, room_id: bytes, entries: list[Entry]) -> None:
        """Store the content of entries that were held hollow."""
        with self.lock:
            rid = self.room_rowid(room_id)
            for e in entries:
                aid = self._known_author_id(e.author)
                if aid is not None and e.ciphertext is not None:
                    self._run("UPDATE entries SET ct=?, phash=NULL WHERE room=? AND author=? AND seq=?", (e.ciphertext, rid, aid, e.seq))

    def redact(self, room_id: bytes, author: bytes, seq: int) -> None:
        """Drop an entry's ciphertext (an expired or deleted message), keeping its signed header."""
        with self.lock:
            rid = self.room_rowid(room_id)
            aid = self._known_author_id(author)
            if aid is None:
                return
            row = self._run("SELECT ct FROM entries WHERE room=? AND author=? AND seq=?", (rid, aid, seq)).fetchone()
            if row is None or row[0] is None:
                return
            self._run("UPDATE entries SET ct=NULL, phash=? WHERE room=? AND author=? AND seq=?", (digest(bytes(row[0])), rid, aid, seq))

    def _write_flags(self, rid: int, flipped: Sequence[tuple[bytes, int, int]]) -> None:
        rows = [(flags, rid, self._author_id(author), seq) for author, seq, flags in flipped]
        self.db.executemany("UPDATE entries SET flags=? WHERE room=? AND author=? AND seq=?", rows)
        self._run("UPDATE rooms SET stale_snapshot=1 WHERE id=?", (rid,))

    def set_flags(self, room_id: bytes, flipped: Sequence[tuple[bytes, int, int]]) -> None:
        """Record entries whose standing changed (valid, void, retracted); the snapshot is stale until saved again."""
        if not flipped:
            return
        with self.lock:
            rid = self.room_rowid(room_id)
            self._run("BEGIN IMMEDIATE")
            try:
                self._write_flags(rid, flipped)
                self._run("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
