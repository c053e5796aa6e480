"""The store's reads for opening a room: each author's newest entry, its older hashes on demand, and in one pass
the control entries and the hollow ones.

Opening a room must not cost its number of entries more than it has to (`Room.open`,
`crdt/restore.py`): the newest entry of every author is found through the primary
key (room, author, seq), one index probe per author; everything else an opened room
needs from the entries table is read in one scan.
"""

from __future__ import annotations

from .entry import NO_HASH, Entry
from .linking import KIND_CONTROL_ROW
from .store import Store

_HEADS = """WITH RECURSIVE a(id) AS (
    SELECT (SELECT author FROM entries WHERE room=?1 ORDER BY author LIMIT 1)
    UNION ALL
    SELECT (SELECT author FROM entries WHERE room=?1 AND author>a.id ORDER BY author LIMIT 1) FROM a WHERE a.id IS NOT NULL)
SELECT e.author, e.seq, e.hash FROM a JOIN entries e ON e.room=?1 AND e.author=a.id
    AND e.seq=(SELECT MAX(seq) FROM entries WHERE room=?1 AND author=a.id)"""


def chain_heads(store: Store, room_id: bytes) -> dict[bytes, tuple[int, bytes]]:
    """Every author of the room with the sequence number and hash of its newest stored entry (the authors are
    walked along the primary key, one probe each, instead of reading every row)."""
    with store.lock:
        rid = store.room_rowid(room_id)
        rows = store._run(_HEADS, (rid,)).fetchall()
        return {store._stored(store._author_keys, int(aid)): (int(seq), bytes(h)) for aid, seq, h in rows}


def chain_hashes(store: Store, room_id: bytes, author: bytes, count: int) -> list[bytes]:
    """The hashes of `author`'s first `count` stored entries, in order (seq 0 on)."""
    return [bytes(h) for (h,) in store.author_rows(room_id, author, "hash", count)]


def controls_and_hollow(store: Store, room_id: bytes) -> tuple[list[Entry], list[tuple[bytes, int, bytes]]]:
    """The stored control entries in the order they were held, and (author, seq, hash) of the entries held
    without their content: one scan of the room's rows."""
    cols = ", ".join("e." + c.strip() for c in store._COLS.split(","))
    with store.lock:
        rid = store.room_rowid(room_id)
        rows = store._run(
            f"SELECT e.author, {cols}, e.kind, e.hash, "
            "CASE WHEN e.kind=?2 THEN (SELECT p.hash FROM entries p WHERE p.room=e.room AND p.author=e.author "
            "AND p.seq=e.seq-1) END FROM entries e WHERE e.room=?1 AND (e.kind=?2 OR e.ct IS NULL) ORDER BY e.n",
            (rid, KIND_CONTROL_ROW)).fetchall()
        authors = [store._stored(store._author_keys, int(row[0])) for row in rows]
    controls: list[Entry] = []
    hollow: list[tuple[bytes, int, bytes]] = []
    for author, row in zip(authors, rows):
        if row[6] is None:  # no ciphertext
            hollow.append((author, int(row[1]), bytes(row[9])))
        if row[8] == KIND_CONTROL_ROW:
            prev = bytes(row[10]) if row[10] is not None else NO_HASH
            controls.append(store._entry(room_id, author, row[1:8], prev))
    return controls, hollow
