"""The SQLite store of a profile: rooms, their keys, the entry log and view snapshots.

Every append is one transaction in WAL mode. A durable append (the default) runs
with `synchronous=FULL`: the entry is on disk (fsynced) before `append` returns.
An append with `durable=False` is committed at once (other readers see it, and it
survives the process being killed) and reaches the disk at the next `sync` or
durable write; `written` and `synced` count such commits so a caller can hold back
whatever must wait for the disk.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any
from pathlib import Path

from .entry import NO_HASH, Entry, decode_one, digest
from .errors import DecodeError, StoreError

SCHEMA_VERSION = 2
FULL_BELOW = 256 * 1024  # bytes free under which a failed write is put down to a full disk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rooms(
    id INTEGER PRIMARY KEY, room_id BLOB UNIQUE NOT NULL, name TEXT NOT NULL, joined_ms INTEGER NOT NULL,
    stale_snapshot INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS room_keys(
    room INTEGER NOT NULL, rotation BLOB NOT NULL, key BLOB NOT NULL, PRIMARY KEY(room, rotation)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS authors(id INTEGER PRIMARY KEY, key BLOB UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS entries(
    room INTEGER NOT NULL, author INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL,
    kind INTEGER NOT NULL, hash BLOB NOT NULL, epoch INTEGER NOT NULL, deps INTEGER NOT NULL,
    nonce BLOB NOT NULL, sig BLOB NOT NULL, ct BLOB, phash BLOB,
    need INTEGER NOT NULL DEFAULT 0, flags INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(room, author, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deps(id INTEGER PRIMARY KEY, hashes BLOB UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots(room INTEGER PRIMARY KEY, upto INTEGER NOT NULL, state BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS equivocations(
    room INTEGER NOT NULL, author BLOB NOT NULL, seq INTEGER NOT NULL, first BLOB NOT NULL, second BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS favorites(room INTEGER NOT NULL, message TEXT NOT NULL, PRIMARY KEY(room, message)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS read_marks(room INTEGER NOT NULL, channel TEXT NOT NULL, upto_ms REAL NOT NULL,
    PRIMARY KEY(room, channel)) WITHOUT ROWID;
"""


def _private(path: Path) -> None:
    """The database and its -wal and -shm files readable by the owner only (SQLite gives new -wal and -shm
    files the database file's mode)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            os.chmod(p, 0o600)


def _disk_full(folder: Path) -> bool:
    """Whether the file system holding `folder` has (next to) no room left for SQLite's files."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < FULL_BELOW


class Store:
    """One profile's database."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.full_disk = False  # opened read-only because the disk had no room for SQLite's WAL files
        try:
            self.db = self._open_read_write()
        except sqlite3.DatabaseError as exc:
            if not _disk_full(self.path.parent):
                raise StoreError(f"the database {self.path} is damaged or not a Hubbub database ({exc})") from exc
            wal = Path(f"{self.path}-wal")
            if wal.exists() and wal.stat().st_size > 0:  # the newest commits are in the WAL, which cannot open now
                raise StoreError(f"the disk holding {self.path.parent} is full; free some space and try again") from exc
            # After a clean close the database file holds everything: read it as it is, write nothing.
            self.db = self._open_read_only()
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

    def _open_read_write(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA secure_delete=ON")  # what is deleted (expired, deleted messages) is overwritten
            # Keep SQLite's default WAL auto-checkpoint (1000 pages): a WAL that keeps growing makes
            # every commit's fsync also write file-size metadata, which measured 2.7x slower here.
            db.execute("PRAGMA foreign_keys=OFF")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES('schema', ?)", (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):
                newer = row[0].isdigit() and int(row[0]) > SCHEMA_VERSION
                raise StoreError(f"the database {self.path} was written by a {'newer' if newer else 'older'} Hubbub "
                                 f"(format {row[0]}), which this version cannot read")
            db.execute("PRAGMA quick_check").fetchone()
            _private(self.path)
        except BaseException:
            db.close()
            raise
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True, isolation_level=None,
                                 check_same_thread=False)
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the disk holding {self.path.parent} is full, and the database cannot be read "
                             f"without room for its journal ({exc})") from exc
        if row is None or row[0] != str(SCHEMA_VERSION):
            db.close()
            raise StoreError(f"the database {self.path} is not a Hubbub database this version can read")
        return db

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
        if "full" in text or self.full_disk or ("disk i/o" in text and _disk_full(self.path.parent)):
            return StoreError(f"the disk is full; {consequence}")
        return StoreError(f"the database could not be written: {exc}")

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

    def room_rowid(self, room_id: bytes) -> int:
        rid = self._room_rowids.get(room_id)
        if rid is None:
            row = self._run("SELECT id FROM rooms WHERE room_id=?", (room_id,)).fetchone()
            if row is None:
                raise StoreError("unknown room")
            rid = self._room_rowids[room_id] = int(row[0])
        return rid

    def keys(self, room_id: bytes) -> dict[bytes, bytes]:
        with self.lock:
            rid = self.room_rowid(room_id)
            return {bytes(r): bytes(k) for r, k in self._run("SELECT rotation, key FROM room_keys WHERE room=?", (rid,))}

    # ----- entries ------------------------------------------------------------------------

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

    def entry_kinds(self, room_id: bytes) -> Iterator[tuple[bytes, int, int]]:
        with self.lock:
            rid = self.room_rowid(room_id)
            rows = self._run("SELECT author, seq, kind FROM entries WHERE room=?", (rid,)).fetchall()
        for aid, seq, kind in rows:
            yield self._stored(self._author_keys, aid), int(seq), int(kind)

    _COLS = "seq, epoch, deps, nonce, sig, ct, phash"

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

    def fill_payload(self, room_id: bytes, entries: list[Entry]) -> None:
        """Store the content of entries that were held hollow."""
        with self.lock:
            rid = self.room_rowid(room_id)
            for e in entries:
                aid = self._known_author_id(e.author)
                if aid is not None and e.ciphertext is not None:
                    self._run("UPDATE entries SET ct=?, phash=NULL WHERE room=? AND author=? AND seq=?", (e.ciphertext, rid, aid, e.seq))

    def count(self, room_id: bytes) -> int:
        with self.lock:
            return int(self._run("SELECT COUNT(*) FROM entries WHERE room=?", (self.room_rowid(room_id),)).fetchone()[0])

    def max_n(self, room_id: bytes) -> int:
        """The local insertion number of the room's newest entry (cached; entries only ever grow)."""
        with self.lock:
            return self._max_n_of(self.room_rowid(room_id))

    def _max_n_of(self, rid: int) -> int:
        n = self._max_n.get(rid)
        if n is None:
            n = self._max_n[rid] = int(self._run("SELECT COALESCE(MAX(n), 0) FROM entries WHERE room=?", (rid,)).fetchone()[0])
        return n

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

    # ----- snapshots, revocations, local-only state ---------------------------------------------

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

    def record_equivocation(self, room_id: bytes, author: bytes, seq: int, first: bytes, second: bytes) -> None:
        with self.lock:
            self._run("INSERT INTO equivocations VALUES(?,?,?,?,?)", (self.room_rowid(room_id), author, seq, first, second))

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

    def snapshot_stale(self, room_id: bytes) -> bool:
        """Whether entries changed standing after the last snapshot was saved (it must not be trusted)."""
        with self.lock:
            row = self._run("SELECT stale_snapshot FROM rooms WHERE id=?", (self.room_rowid(room_id),)).fetchone()
        return bool(row and row[0])

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
