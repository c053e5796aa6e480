"""The durable bookkeeping of the mailbox route: what each relay acknowledged of ours, and how far we pulled.

`relay.sqlite` in the profile folder (WAL, `synchronous=FULL`) holds two small tables:

* `pushed (relay, room) -> seq`: the highest of our own entries in that room the relay acknowledged
  (after its fsync). Our entries are in the room's store anyway; everything above the cursor is what
  the relay has not acknowledged, and is pushed again on the next connection. So nothing depends on
  the relay keeping what it did not acknowledge, and nothing is kept twice on our side.
* `pulled (relay, mailbox) -> seq`: the relay's sequence number up to which we hold what that mailbox
  had (a mailbox is named by a hash of its auth, never by the room). It moves only after what was
  pulled is stored and fsynced.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

from ..errors import HubbubError

log = logging.getLogger(__name__)

RELAY_FILE = "relay.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS pushed (relay TEXT NOT NULL, room BLOB NOT NULL, seq INTEGER NOT NULL,
                                   PRIMARY KEY (relay, room)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pulled (relay TEXT NOT NULL, mailbox TEXT NOT NULL, seq INTEGER NOT NULL,
                                   PRIMARY KEY (relay, mailbox)) WITHOUT ROWID;
"""


class CursorError(HubbubError):
    """The relay bookkeeping file cannot be read or written (one sentence)."""


class RelayCursors:
    """`relay.sqlite`: per relay, our acknowledged own entries per room and the pull position per mailbox."""

    def __init__(self, profile_dir: Path) -> None:
        self.path = profile_dir / RELAY_FILE
        try:
            self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise CursorError(f"The relay bookkeeping file {self.path} cannot be opened ({exc}).") from exc

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()

    def _one(self, sql: str, args: tuple[object, ...]) -> int | None:
        try:
            row = self.db.execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            raise CursorError(f"The relay bookkeeping file {self.path} cannot be read ({exc}).") from exc
        return None if row is None else int(row[0])

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        try:
            self.db.execute(sql, args)
        except sqlite3.Error as exc:
            raise CursorError(f"The relay bookkeeping file {self.path} cannot be written ({exc}).") from exc

    def acked(self, relay: str, room_id: bytes) -> int | None:
        """Our highest entry in `room_id` that `relay` acknowledged (-1: none yet), or None if we never pushed there."""
        return self._one("SELECT seq FROM pushed WHERE relay=? AND room=?", (relay, room_id))

    def set_acked(self, relay: str, room_id: bytes, seq: int) -> None:
        self._write("INSERT INTO pushed (relay, room, seq) VALUES (?, ?, ?) "
                    "ON CONFLICT (relay, room) DO UPDATE SET seq=excluded.seq", (relay, room_id, seq))

    def pulled(self, relay: str, mailbox: str) -> int:
        """The relay's sequence number up to which we hold what `mailbox` had (0: nothing pulled)."""
        return self._one("SELECT seq FROM pulled WHERE relay=? AND mailbox=?", (relay, mailbox)) or 0

    def set_pulled(self, relay: str, mailbox: str, seq: int) -> None:
        self._write("INSERT INTO pulled (relay, mailbox, seq) VALUES (?, ?, ?) "
                    "ON CONFLICT (relay, mailbox) DO UPDATE SET seq=excluded.seq", (relay, mailbox, seq))

