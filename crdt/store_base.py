"""A profile database's connection: its locks, the id caches, durability (sync, checkpoints) and the helpers the store's parts share."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .entry import NO_HASH, Entry, digest
from .errors import StoreError
from .store_schema import disk_full, open_read_only, open_read_write


class StoreBase:
    """The connection of a `Store` (crdt/store.py), and the pieces every part of it uses."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.full_disk = False  # opened read-only because the disk had no room for SQLite's WAL files
        try:
            self.db = open_read_write(self.path)
        except sqlite3.DatabaseError as exc:
            if not disk_full(self.path.parent):
                raise StoreError(f"the database {self.path} is damaged or not a Hubbub database ({exc})") from exc
            wal = Path(f"{self.path}-wal")
            if wal.exists() and wal.stat().st_size > 0:  # the newest commits are in the WAL, which cannot open now
                raise StoreError(f"the disk holding {self.path.parent} is full; free some space and try again") from exc
            # After a clean close the database file holds everything: read it as it is, write nothing.
            self.db = open_read_only(self.path)
            self.full_disk = True
        self.lock = threading.RLock()
        self._room_rowids: dict[bytes, int] = {}
        self._author_ids: dict[bytes, int] = {}
        self._author_keys: dict[int, bytes] = {}
        self._deps_ids: dict[bytes, int] = {}
        self._deps_blobs: dict[int, bytes] = {}
        self._max_n: dict[int, int] = {}
        self.commits = 0  # appends committed so far (a checkpoint is due when this moves)
        self._checkpoint_db: sqlite3.Connection | None = None
        self.written = 0  # commits made with durable=False so far
        self.synced = 0   # of those, how many are known to be on disk
        self._wal_fd: int | None = None
        self._sync_lock = threading.Lock()
        self._load_ids()

    def _load_ids(self) -> None:
        """(Re)load the small id tables cached in memory: after opening, after a rolled-back write,
        and when a row names an id the cache lacks (another process wrote to the profile)."""
        self._max_n.clear()
        self._deps_ids.clear()
        self._deps_blobs.clear()
        self._author_ids.clear()
        self._author_keys.clear()
        for did, blob in self.db.execute("SELECT id, hashes FROM deps"):
            self._deps_ids[bytes(blob)] = did
            self._deps_blobs[did] = bytes(blob)
        for rid, key in self.db.execute("SELECT id, key FROM authors"):
            self._author_ids[bytes(key)] = rid
            self._author_keys[rid] = bytes(key)

    def close(self) -> None:
        with self.lock, self._sync_lock:
            if self._checkpoint_db is not None:
                self._checkpoint_db.close()
                self._checkpoint_db = None
            self.db.close()
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None

    def is_synced(self) -> bool:
        """Whether every committed append is on disk."""
        return self.synced >= self.written

    def sync(self) -> None:
        """Put every append committed so far on disk. Safe to call from a worker thread.

        In WAL mode a commit is a write to the `-wal` file, so one fdatasync of that
        file makes all earlier commits durable, as `synchronous=FULL` would have.
        """
        upto = self.written
        with self._sync_lock:
            if self._wal_fd is None:
                try:
                    self._wal_fd = os.open(f"{self.path}-wal", os.O_RDWR)
                except OSError:
                    self._wal_fd = -1  # no separate WAL file to open here: checkpoint instead
            if self._wal_fd >= 0:
                try:
                    getattr(os, "fdatasync", os.fsync)(self._wal_fd)
                except OSError as exc:
                    raise StoreError(f"the database could not be flushed to disk: {exc}") from exc
            else:
                with self.lock:
                    self._run("PRAGMA wal_checkpoint(PASSIVE)")
            self.synced = max(self.synced, upto)

    def checkpoint_truncate(self) -> None:
        """Fold the write-ahead log into the database and empty it, so no old page (with text since
        deleted) stays in it. Best effort: a reader holding the log open makes it wait for the next time."""
        if self.full_disk:
            return
        with self.lock:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database (call when idle)."""
        with self.lock:
            self._run("PRAGMA wal_checkpoint(PASSIVE)")

    def checkpoint_aside(self) -> None:
        """Fold the write-ahead log into the database over a connection of its own, without
        blocking writers: meant for a worker thread (`DurabilityGate.async_checkpoints`).

        Once a checkpoint has caught up, SQLite starts the log over from its beginning, so the
        commits that follow overwrite blocks already allocated; a log that only grows makes every
        fsync also commit the file system's journal, which measured 10-25 % slower per commit.
        """
        if self.full_disk:
            return
        with self._sync_lock:
            try:
                if self._checkpoint_db is None:
                    self._checkpoint_db = sqlite3.connect(str(self.path), isolation_level=None,
                                                          check_same_thread=False, timeout=1)
                self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.OperationalError as exc:
                raise self._write_error(exc, "the log was not folded into the database") from exc

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, args)
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc, "nothing was written") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the database is damaged: {exc}") from exc

    def _write_error(self, exc: sqlite3.OperationalError, consequence: str) -> StoreError:
        """What a failed write means for the user, in one sentence."""
        text = str(exc).lower()
        if "full" in text or self.full_disk or ("disk i/o" in text and disk_full(self.path.parent)):
            return StoreError(f"the disk is full; {consequence}")
        return StoreError(f"the database could not be written: {exc}")

    def room_rowid(self, room_id: bytes) -> int:
        rid = self._room_rowids.get(room_id)
        if rid is None:
            row = self._run("SELECT id FROM rooms WHERE room_id=?", (room_id,)).fetchone()
            if row is None:
                raise StoreError("unknown room")
            rid = self._room_rowids[room_id] = int(row[0])
        return rid

    def _stored(self, table: dict[int, bytes], ident: int) -> bytes:
        """The value behind a stored id (an author key, a deps list), reloading the cache on a miss."""
        value = table.get(ident)
        if value is None:
            self._load_ids()  # refills the same dicts
            value = table[ident]
        return value

    def _known_author_id(self, key: bytes) -> int | None:
        """The stored id of an author key, or None if no entry of theirs is stored."""
        aid = self._author_ids.get(key)
        if aid is None:
            self._load_ids()
            aid = self._author_ids.get(key)
        return aid

    def _author_id(self, key: bytes) -> int:
        aid = self._author_ids.get(key)
        if aid is None:
            self._run("INSERT OR IGNORE INTO authors(key) VALUES(?)", (key,))
            aid = int(self._run("SELECT id FROM authors WHERE key=?", (key,)).fetchone()[0])
            self._author_ids[key] = aid
            self._author_keys[aid] = key
        return aid

    def _deps_id(self, deps: tuple[bytes, ...]) -> int:
        """Dependency lists repeat across many entries, so each distinct one is stored once."""
        blob = b"".join(deps)
        did = self._deps_ids.get(blob)
        if did is None:
            self._run("INSERT OR IGNORE INTO deps(hashes) VALUES(?)", (blob,))
            did = int(self._run("SELECT id FROM deps WHERE hashes=?", (blob,)).fetchone()[0])
            self._deps_ids[blob] = did
            self._deps_blobs[did] = blob
        return did

    def _max_n_of(self, rid: int) -> int:
        n = self._max_n.get(rid)
        if n is None:
            n = self._max_n[rid] = int(self._run("SELECT COALESCE(MAX(n), 0) FROM entries WHERE room=?", (rid,)).fetchone()[0])
        return n

    _COLS = "seq, epoch, deps, nonce, sig, ct, phash"

    def _entry(self, room_id: bytes, author: bytes, row: Sequence[Any], prev: bytes) -> Entry:
        seq, epoch, deps, nonce, sig, ct, phash = row
        deps_b = self._stored(self._deps_blobs, int(deps))
        ct_b = bytes(ct) if ct is not None else None
        return Entry(
            room_id=room_id if deps_b else NO_HASH,
            author=author, seq=int(seq), prev=prev, epoch=int(epoch),
            deps=tuple(deps_b[i : i + 32] for i in range(0, len(deps_b), 32)),
            nonce=bytes(nonce), payload_hash=digest(ct_b) if ct_b is not None else bytes(phash),
            signature=bytes(sig), ciphertext=ct_b,
        )
