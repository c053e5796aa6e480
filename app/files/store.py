"""The profile's file store: sealed chunks in a content-addressed folder, hash lists, and an index of the files they
belong to (which room and message, pinned or cached, when last used).

    PROFILE/files/            0700
        chunks/ab/abcd…       0600  one sealed chunk, named by its id (BLAKE2b-256 of the ciphertext, hex)
        lists/<root>          0600  a file's chunk ids, in order (checked against the root before it is kept)
        index.sqlite          0600  files: root, room, message, name, size, type, pinned, last used
        tmp/                        re-encoded pictures before they are chunked

A chunk is written to a temporary name and renamed, so a crash leaves no chunk with a wrong name that looks whole;
chunks are checked against their id whenever they are read anyway. Files the user sent or saved are pinned; the
others are a cache, evicted least recently used first when the chunks outgrow the limit in settings.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from .chunks import ID_SIZE, chunk_count, chunk_id, chunk_length, split_ids

DEFAULT_CACHE_MB = 4096
SETTING = "files_cache_mb"
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    root BLOB PRIMARY KEY, room BLOB NOT NULL, message TEXT NOT NULL DEFAULT '', name TEXT NOT NULL,
    size INTEGER NOT NULL, mime TEXT NOT NULL, pinned INTEGER NOT NULL DEFAULT 0, used REAL NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_message ON files(room, message);
"""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file in the index."""

    root: bytes
    room: bytes
    message: str
    name: str
    size: int
    mime: str
    pinned: bool
    used: float


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


class FileStore:
    """Chunks, hash lists and the index, under one profile folder."""

    def __init__(self, profile_dir: Path) -> None:
        self.base = profile_dir / "files"
        self.chunks = self.base / "chunks"
        self.lists = self.base / "lists"
        self.tmp = self.base / "tmp"
        for folder in (self.base, self.chunks, self.lists, self.tmp):
            _private_dir(folder)
        db = self.base / "index.sqlite"
        fd = os.open(db, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self._db = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._have: dict[bytes, bytearray] = {}  # root -> held chunks, 1 byte each (filled on first use)
        self._ids: dict[bytes, list[bytes]] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----- chunks --------------------------------------------------------------------------

    def chunk_path(self, cid: bytes) -> Path:
        name = cid.hex()
        return self.chunks / name[:2] / name

    def put_chunk(self, cid: bytes, sealed: bytes | memoryview) -> None:
        """Keep a sealed chunk under its id (the caller checked the id); safe to call from a worker thread."""
        path = self.chunk_path(cid)
        if path.exists():
            return
        folder = path.parent
        if not folder.is_dir():
            _private_dir(folder)
        tmp = folder / f".{path.name}.{threading.get_ident()}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(sealed)
            while view:
                view = view[os.write(fd, view):]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        os.close(fd)
        os.replace(tmp, path)

    def put_checked(self, expected: bytes, sealed: bytes | memoryview) -> bytes:
        """Hash a chunk a peer sent and keep it if it is the one expected; returns the id it hashed to."""
        cid = chunk_id(sealed)
        if cid == expected:
            self.put_chunk(cid, sealed)
        return cid

    def read_chunk(self, cid: bytes, *, verify: bool = True) -> bytes | None:
        """A chunk's bytes if held, and (`verify`) still matching its id: a damaged one is removed. Serving skips
        the check: the fetcher checks every chunk it receives anyway."""
        try:
            data = self.chunk_path(cid).read_bytes()
        except OSError:
            return None
        if verify and chunk_id(data) != cid:
            self.drop_chunk(cid)
            return None
        return data

    def read_chunk_frame(self, cid: bytes, header: bytes) -> bytearray | None:
        """`header` then the chunk's bytes, read by the kernel straight into one buffer (what a holder sends: the
        fetcher checks the chunk against its id)."""
        try:
            with self.chunk_path(cid).open("rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                frame = bytearray(len(header) + size)
                frame[:len(header)] = header
                view = memoryview(frame)[len(header):]
                while view:
                    n = f.readinto(view)
                    if not n:
                        return None  # it shrank under us
                    view = view[n:]
        except OSError:
            return None
        return frame

    def has_chunk(self, cid: bytes) -> bool:
        return self.chunk_path(cid).exists()

    def drop_chunk(self, cid: bytes) -> None:
        with contextlib.suppress(OSError):
            self.chunk_path(cid).unlink()
        for root, have in self._have.items():
            ids = self.ids(root)
            if ids is not None:
                for i, other in enumerate(ids):
                    if other == cid:
                        have[i] = 0

    # ----- hash lists and what is held ------------------------------------------------------

    def save_list(self, root: bytes, ids: list[bytes]) -> None:
        path = self.lists / root.hex()
        tmp = path.with_suffix(".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(b"".join(ids))
        os.replace(tmp, path)

    def list_bytes(self, root: bytes) -> bytes | None:
        try:
            return (self.lists / root.hex()).read_bytes()
        except OSError:
            return None

    def ids(self, root: bytes) -> list[bytes] | None:
        """A file's chunk ids (kept in memory for the last few files asked about: a holder asks for every chunk)."""
        ids = self._ids.get(root)
        if ids is not None:
            return ids
        blob = self.list_bytes(root)
        if blob is None or len(blob) % ID_SIZE:
            return None
        ids = split_ids(blob)
        if len(self._ids) >= 16:
            self._ids.pop(next(iter(self._ids)))
        self._ids[root] = ids
        return ids

    def have(self, root: bytes) -> bytearray:
        """Which chunks of a file are held (one byte per chunk, 1 = held); empty without its hash list."""
        have = self._have.get(root)
        if have is None:
            ids = self.ids(root)
            if ids is None:
                return bytearray()
            have = self._have[root] = bytearray(1 if self.has_chunk(c) else 0 for c in ids)
        return have

    def mark(self, root: bytes, index: int) -> None:
        have = self.have(root)
        if 0 <= index < len(have):
            have[index] = 1

    def held_bytes(self, root: bytes, size: int) -> int:
        """Plaintext bytes of a file held here (what `history --json` calls `have`)."""
        have = self.have(root)
        return sum(chunk_length(size, i) for i, held in enumerate(have) if held)

    def complete(self, root: bytes, size: int) -> bool:
        have = self.have(root)
        return len(have) == chunk_count(size) and all(have)

    # ----- the index ----------------------------------------------------------------------

    def record(self, root: bytes, room: bytes, message: str, name: str, size: int, mime: str, *,
               pinned: bool = False) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO files(root, room, message, name, size, mime, pinned, used) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT(root) DO UPDATE SET message=CASE WHEN excluded.message != '' THEN excluded.message "
                "ELSE files.message END, pinned=MAX(files.pinned, excluded.pinned), used=excluded.used",
                (root, room, message, name, size, mime, int(pinned), time.time()))

    def set_message(self, root: bytes, message: str) -> None:
        with self._lock:
            self._db.execute("UPDATE files SET message=? WHERE root=?", (message, root))

    def pin(self, root: bytes) -> None:
        with self._lock:
            self._db.execute("UPDATE files SET pinned=1, used=? WHERE root=?", (time.time(), root))

    def touch(self, root: bytes) -> None:
        with self._lock:
            self._db.execute("UPDATE files SET used=? WHERE root=?", (time.time(), root))

    def get(self, root: bytes) -> StoredFile | None:
        with self._lock:
            row = self._db.execute("SELECT root, room, message, name, size, mime, pinned, used FROM files WHERE root=?",
                                   (root,)).fetchone()
        return None if row is None else StoredFile(bytes(row[0]), bytes(row[1]), row[2], row[3], row[4], row[5],
                                                   bool(row[6]), row[7])

    def files_of(self, room: bytes, messages: list[str]) -> list[bytes]:
        """Roots of the files that these messages of `room` carry (as far as this node holds any)."""
        out: list[bytes] = []
        with self._lock:
            for i in range(0, len(messages), 500):
                part = messages[i:i + 500]
                marks = ",".join("?" * len(part))
                out.extend(bytes(r[0]) for r in self._db.execute(
                    f"SELECT root FROM files WHERE room=? AND message IN ({marks})", (room, *part)))
        return out

    def all_files(self) -> list[StoredFile]:
        with self._lock:
            rows = self._db.execute("SELECT root, room, message, name, size, mime, pinned, used FROM files "
                                    "ORDER BY used").fetchall()
        return [StoredFile(bytes(r[0]), bytes(r[1]), r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows]

    # ----- removal and the cache limit ------------------------------------------------------

    def remove(self, root: bytes) -> int:
        """Delete a file's chunks, hash list and index row; returns the chunks removed."""
        removed = 0
        for cid in self.ids(root) or []:
            try:
                self.chunk_path(cid).unlink()
                removed += 1
            except OSError:
                pass
        with contextlib.suppress(OSError):
            (self.lists / root.hex()).unlink()
        self._have.pop(root, None)
        self._ids.pop(root, None)
        with self._lock:
            self._db.execute("DELETE FROM files WHERE root=?", (root,))
        return removed

    def usage(self) -> int:
        """Bytes of chunks held."""
        total = 0
        for folder in self.chunks.iterdir():
            if folder.is_dir():
                for entry in os.scandir(folder):
                    with contextlib.suppress(OSError):
                        total += entry.stat().st_size
        return total

    def evict(self, limit_bytes: int, keep: Collection[bytes] = ()) -> list[bytes]:
        """Remove cached (unpinned) files, least recently used first, until the chunks fit in `limit_bytes`."""
        used = self.usage()
        evicted: list[bytes] = []
        for stored in self.all_files():
            if used <= limit_bytes:
                break
            if stored.pinned or stored.root in keep:
                continue
            ids = self.ids(stored.root) or []
            freed = sum(p.stat().st_size for p in map(self.chunk_path, ids) if p.exists())
            self.remove(stored.root)
            used -= freed
            evicted.append(stored.root)
        return evicted


def cache_limit(settings: dict[str, object]) -> int:
    """The cache limit in bytes, from the profile's settings (`files_cache_mb`)."""
    value = settings.get(SETTING, DEFAULT_CACHE_MB)
    mb = value if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else DEFAULT_CACHE_MB
    return int(mb * 1024 * 1024)
