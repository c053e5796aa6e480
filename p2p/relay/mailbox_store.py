"""The blind mailbox on disk: envelopes by mailbox id in one SQLite file, every put fsync'd before it is acked.

The relay names a mailbox `BLAKE2b("hubbub-mailbox-id-v1" || auth)` and stores only that id, never
the auth; whoever presents the auth reaches that mailbox and no other, so a reader or writer
without it only ever sees an empty mailbox of its own. Sequence numbers grow per mailbox from 1;
an envelope already held (same bytes) keeps its number and is stored once. A put is one
transaction, refused whole when it would cross a quota (the mailbox's, or the relay's total),
and returns only after the commit reached the disk (WAL, `synchronous=FULL`). The sweep deletes
envelopes older than the retention. Synchronous: the server runs it on one worker thread.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from p2p.relay.config import RelayLimits
from p2p.relay.errors import RelayQuotaError

ROW_OVERHEAD = 96
"""Bytes counted per envelope on top of its own (its row, digest and index entries)."""
FILE_NAME = "mailbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailboxes (
    id BLOB PRIMARY KEY, last_seq INTEGER NOT NULL, bytes INTEGER NOT NULL, touched REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS envelopes (
    mailbox BLOB NOT NULL, seq INTEGER NOT NULL, digest BLOB NOT NULL, stored REAL NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (mailbox, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS envelopes_digest ON envelopes (mailbox, digest);
CREATE INDEX IF NOT EXISTS envelopes_stored ON envelopes (stored);
"""


def mailbox_id(auth: bytes) -> bytes:
    """The name the relay gives the mailbox of `auth` (not the room id, not choosable without the auth)."""
    return hashlib.blake2b(b"hubbub-mailbox-id-v1" + auth, digest_size=32).digest()


def cost(envelope: bytes) -> int:
    """Bytes an envelope counts against the quotas."""
    return len(envelope) + ROW_OVERHEAD


class MailboxStore:
    """Mailboxes in `<data dir>/mailbox.sqlite3`, within `RelayLimits`' quotas and retention."""

    def __init__(self, data_dir: Path, limits: RelayLimits) -> None:
        self.limits = limits
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = data_dir / FILE_NAME
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA journal_size_limit = 8388608")
        self._db.executescript(_SCHEMA)
        self.total_bytes = int(self._db.execute("SELECT COALESCE(SUM(bytes), 0) FROM mailboxes").fetchone()[0])
        try:
            os.chmod(self.path, 0o600)
        except OSError:
            pass

    def put(self, auth: bytes, envelopes: list[bytes], now: float) -> list[int]:
        """Store `envelopes` (in order) and return their sequence numbers, after fsync.

        `RelayQuotaError` (nothing stored) if the mailbox or the relay would go over its quota.
        """
        box = mailbox_id(auth)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT last_seq, bytes FROM mailboxes WHERE id = ?", (box,)).fetchone()
            last, used = (int(row[0]), int(row[1])) if row else (0, 0)
            seqs: list[int] = []
            fresh: dict[bytes, tuple[int, bytes]] = {}
            for envelope in envelopes:
                digest = hashlib.blake2b(envelope, digest_size=32).digest()
                if digest in fresh:
                    seqs.append(fresh[digest][0])
                    continue
                held = db.execute("SELECT seq FROM envelopes WHERE mailbox = ? AND digest = ?",
                                  (box, digest)).fetchone()
                if held is not None:
                    seqs.append(int(held[0]))
                    continue
                last += 1
                fresh[digest] = (last, envelope)
                seqs.append(last)
            added = sum(cost(envelope) for _, envelope in fresh.values())
            if used + added > self.limits.mailbox_quota:
                raise RelayQuotaError(f"this mailbox is full (its quota is {self.limits.mailbox_quota // 1048576} MiB); "
                                      "older envelopes leave it as they expire")
            if self.total_bytes + added > self.limits.total_quota:
                raise RelayQuotaError("the relay's disk quota is used up; try again later")
            db.executemany("INSERT INTO envelopes (mailbox, seq, digest, stored, data) VALUES (?, ?, ?, ?, ?)",
                           [(box, seq, digest, now, envelope) for digest, (seq, envelope) in fresh.items()])
            db.execute("INSERT INTO mailboxes (id, last_seq, bytes, touched) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, bytes = excluded.bytes, "
                       "touched = excluded.touched", (box, last, used + added, now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.total_bytes += added
        return seqs

    def get(self, auth: bytes, after: int, limit: int, max_bytes: int) -> tuple[list[tuple[int, bytes]], int]:
        """Envelopes with sequence numbers above `after`, oldest first, at most `limit` of them and
        about `max_bytes` (always at least one), and the mailbox's last sequence number."""
        box = mailbox_id(auth)
        row = self._db.execute("SELECT last_seq FROM mailboxes WHERE id = ?", (box,)).fetchone()
        if row is None:
            return [], 0
        out: list[tuple[int, bytes]] = []
        size = 0
        cursor = self._db.execute("SELECT seq, data FROM envelopes WHERE mailbox = ? AND seq > ? ORDER BY seq LIMIT ?",
                                  (box, after, limit))
        for seq, data in cursor:
            if out and size + len(data) + 12 > max_bytes:
                break
            out.append((int(seq), bytes(data)))
            size += len(data) + 12
        cursor.close()
        return out, int(row[0])

    def sweep(self, now: float) -> int:
        """Delete envelopes older than the retention (and mailboxes empty for twice as long); returns how many."""
        cutoff = now - self.limits.retention
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            boxes = [r[0] for r in db.execute("SELECT DISTINCT mailbox FROM envelopes WHERE stored < ?", (cutoff,))]
            deleted = db.execute("DELETE FROM envelopes WHERE stored < ?", (cutoff,)).rowcount
            db.executemany(
                "UPDATE mailboxes SET bytes = (SELECT COALESCE(SUM(length(data)), 0) + COUNT(*) * ? "
                "FROM envelopes WHERE mailbox = mailboxes.id) WHERE id = ?",
                [(ROW_OVERHEAD, box) for box in boxes])
            db.execute("DELETE FROM mailboxes WHERE bytes = 0 AND touched < ?", (now - 2 * self.limits.retention,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.total_bytes = int(db.execute("SELECT COALESCE(SUM(bytes), 0) FROM mailboxes").fetchone()[0])
        db.execute("PRAGMA incremental_vacuum")
        return int(deleted)

    def counts(self) -> tuple[int, int]:
        """(mailboxes, envelopes) held."""
        boxes = self._db.execute("SELECT COUNT(*) FROM mailboxes").fetchone()[0]
        envelopes = self._db.execute("SELECT COUNT(*) FROM envelopes").fetchone()[0]
        return int(boxes), int(envelopes)

    def close(self) -> None:
        self._db.close()
