"""The profile database's tables and format version, and how its connection is opened (read-write, or read-only on a full disk)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from .errors import StoreError

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


def private_files(path: Path) -> None:
    """The database and its -wal and -shm files readable by the owner only (SQLite gives new -wal and -shm
    files the database file's mode)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            os.chmod(p, 0o600)


def disk_full(folder: Path) -> bool:
    """Whether the file system holding `folder` has (next to) no room left for SQLite's files."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < FULL_BELOW


def open_read_write(path: Path) -> sqlite3.Connection:
    """Open (creating if need be) the database at `path` in WAL mode, checking its format version."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
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
            raise StoreError(f"the database {path} was written by a {'newer' if newer else 'older'} Hubbub "
                             f"(format {row[0]}), which this version cannot read")
        db.execute("PRAGMA quick_check").fetchone()
        private_files(path)
    except BaseException:
        db.close()
        raise
    return db


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open the database at `path` as it is, writing nothing (its disk is full and a clean close left no WAL)."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True, isolation_level=None,
                             check_same_thread=False)
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"the disk holding {path.parent} is full, and the database cannot be read "
                         f"without room for its journal ({exc})") from exc
    if row is None or row[0] != str(SCHEMA_VERSION):
        db.close()
        raise StoreError(f"the database {path} is not a Hubbub database this version can read")
    return db
