"""`python -m bench crdt`: the room core's costs at scale (issue 2's table)."""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey
from pycrdt import Doc

from app.profile import IDENTITY_FILE, open_profile
from app.room import Room
from crdt.cipher import new_room_key
from crdt.control import ControlOp
from crdt.private_file import write_private
from crdt.entry import Entry
from crdt.room import RoomLog, genesis_entry
from crdt.schema import CHANNELS, MESSAGES
from crdt.sync import EntriesReceived, MemorySource, SyncProtocol

TEXT = "x" * 20 + " forty characters long."[:20]  # 40 characters
assert len(TEXT) == 40


class _Watch:
    """A stopwatch over one timed region, in wall seconds (the figures) and in this process's CPU seconds
    (`*_cpu_*`: steadier on a shared machine, where the wall clock also counts other people's work)."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self._start = (0.0, 0.0)

    def start(self) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def stop(self) -> float:
        self.wall, self.cpu = time.perf_counter() - self._start[0], time.process_time() - self._start[1]
        return self.wall


SYNC_WATCH, FLOOR_WATCH = _Watch(), _Watch()


def _grow(room: RoomLog, source: MemorySource, writers: list[SigningKey], n: int, t0: float) -> None:
    for i in range(n):
        w = writers[i % len(writers)]
        _key, result = room.write_value(w, MESSAGES, {"c": "general", "t": TEXT, "ts": t0 + i})
        source.add(result.accepted)


def make_room(n: int) -> tuple[RoomLog, MemorySource, list[SigningKey], bytes]:
    """An in-memory room with `n` 40-character messages from four members."""
    owner = SigningKey.generate()
    others = [SigningKey.generate() for _ in range(3)]
    key = new_room_key()
    g = genesis_entry(owner, key, "bench", "owner")
    room = RoomLog(g.hash, {g.hash: key})
    source = MemorySource()
    source.add(room.ingest([g]).accepted)
    source.add(room.write_value(owner, CHANNELS, {"id": "general", "n": "general", "k": "text", "ts": 0})[1].accepted)
    for o in others:
        source.add(room.write_control(owner, ControlOp("add", {"member": bytes(o.verify_key).hex(), "role": "member"})).accepted)
    _grow(room, source, [owner, *others], n, time.time() * 1000)
    return room, source, [owner, *others], key


def _post_cost(room: RoomLog, writers: list[SigningKey], samples: int) -> float:
    times = []
    t0 = time.time() * 1000
    for i in range(samples):
        start = time.perf_counter()
        room.write_value(writers[i % len(writers)], MESSAGES, {"c": "general", "t": TEXT, "ts": t0 + i})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sync(source: MemorySource, room_id: bytes, key: bytes) -> tuple[float, RoomLog]:
    replica = RoomLog(room_id, {room_id: key})
    theirs = SyncProtocol(MemorySource())
    ours = SyncProtocol(source)
    gc.collect()
    SYNC_WATCH.start()
    theirs.open()
    for frame in theirs.data_to_send():
        ours.receive(frame)
    while ours.has_data():
        for frame in ours.data_to_send():
            event = theirs.receive(frame)
            if isinstance(event, EntriesReceived):
                replica.ingest(event.entries)
    return SYNC_WATCH.stop(), replica


def _sync_floor(source: MemorySource, key: bytes, room_id: bytes, tmp: Path) -> float:
    """The least work a sync of these entries needs, same run: decrypt every payload, check one signature
    per author run, and insert the rows in one SQLite transaction."""
    import sqlite3

    from crdt.cipher import open_payload

    chains = list(source.by_author.values())
    db = sqlite3.connect(str(tmp / "floor.sqlite"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE e(author BLOB, seq INTEGER, hash BLOB, ct BLOB, PRIMARY KEY(author, seq)) WITHOUT ROWID")
    gc.collect()
    FLOOR_WATCH.start()
    rows = []
    for chain in chains:
        chain[-1].signature_valid()
        for e in chain:
            if e.ciphertext is not None and e.deps:
                open_payload(key, e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
            rows.append((e.author, e.seq, e.hash, e.ciphertext))
    db.execute("BEGIN")
    db.executemany("INSERT INTO e VALUES(?,?,?,?)", rows)
    db.execute("COMMIT")
    elapsed = FLOOR_WATCH.stop()
    db.close()
    return elapsed


def _race(room: RoomLog, writers: list[SigningKey], concurrent: int) -> float:
    """A removal that voids `concurrent` messages its author wrote without having seen it, arriving in `room`:
    the time to resolve, re-judge them and retract them from the document."""
    from crdt.room import KIND_CONTROL
    from crdt.writes import next_entry

    owner, member = writers[0], writers[1]
    seen = room.head(bytes(member.verify_key))
    t0 = time.time() * 1000
    for i in range(concurrent):
        room.write_value(member, MESSAGES, {"c": "general", "t": TEXT, "ts": t0 + i})
    op = ControlOp("remove", {"member": bytes(member.verify_key).hex(), "after_seq": seen, "ts": int(t0)})
    removal = next_entry(room, owner, KIND_CONTROL, op.encode())
    gc.collect()
    start = time.perf_counter()
    result = room.ingest([removal])
    elapsed = time.perf_counter() - start
    assert len(result.flipped) >= concurrent, "the removal did not void the concurrent messages"
    return elapsed


def _flood_post_cost(room: RoomLog, writers: list[SigningKey], others: list[Entry], floods: int,
                     per_flood: int) -> tuple[float, float, float, int]:
    """Median cost of a post (back to back; right after as much unrelated CPU work as a flood batch costs, the
    same-run baseline; and right after a peer's batch of validly signed entries that can only wait, from a
    throwaway key), and the most bytes the pending pool held. The baseline matters: after 50 ms of any
    work the caches are cold and a post costs 3x more whatever the pending pool holds."""
    import os

    from crdt.entry import sign_entry

    owner = writers[0]
    t0 = time.time() * 1000
    n = [0]

    def post() -> float:
        n[0] += 1
        start = time.perf_counter()
        room.write_value(owner, MESSAGES, {"c": "general", "t": TEXT, "ts": t0 + n[0]})
        return time.perf_counter() - start

    junk = SigningKey.generate()
    deps = room.frontier
    quiet, busy, flooded, most = [], [], [], 0
    for f in range(floods):
        batch = [sign_entry(junk, room_id=room.room_id, seq=10 + f * per_flood + j, prev=os.urandom(32), epoch=0,
                            deps=deps, nonce=os.urandom(8), ciphertext=os.urandom(200)) for j in range(per_flood)]
        room.ingest(batch, origin="flooder")
        most = max(most, room.pending.bytes)
        flooded.append(post())
        for e in others[:per_flood]:  # the same number of signature checks, with nothing held afterwards
            e.signature_valid()
        busy.append(post())
        quiet.append(post())
    return statistics.median(quiet), statistics.median(busy), statistics.median(flooded), most


def _store_room(profile_dir: Path, room: RoomLog, source: MemorySource, key: bytes, owner: SigningKey) -> Path:
    profile_dir.mkdir(parents=True)
    write_private(profile_dir / IDENTITY_FILE, bytes(owner), exclusive=True)
    profile = open_profile(profile_dir, display_name="bench")
    store = profile.store
    store.add_room(room.room_id, "bench", {room.room_id: key})
    entries = [e for chain in source.by_author.values() for e in chain]
    entries.sort(key=lambda e: (0 if not e.deps else 1, e.seq))
    replica = RoomLog(room.room_id, {room.room_id: key})
    result = replica.ingest(entries)
    store.append(room.room_id, result.accepted, result.kinds)
    store.save_snapshot(room.room_id, store.max_n(room.room_id), replica.doc.get_update())
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    profile.close()
    return profile_dir / "hubbub.sqlite"


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def run(quick: bool = False) -> dict[str, Any]:
    big = 10_000 if quick else 100_000
    small = 1_000
    samples = 50 if quick else 200
    out: dict[str, Any] = {"history_messages": big}

    room_s, _src_s, writers_s, _ = make_room(small)
    cost_small = _post_cost(room_s, writers_s, samples)
    t = time.perf_counter()
    room_b, src_b, writers_b, key_b = make_room(big)
    out["build_history_s"] = time.perf_counter() - t
    cost_big = _post_cost(room_b, writers_b, samples)
    # the samples written above are part of the big room's source too
    out["append_1k_ms"] = cost_small * 1000
    out[f"append_{big // 1000}k_ms"] = cost_big * 1000
    out[f"append_ratio_{big // 1000}k_vs_1k"] = cost_big / cost_small

    sync_s, replica = _sync(src_b, room_b.room_id, key_b)
    out[f"sync_{big // 1000}k_s"] = sync_s
    out["sync_converged"] = int(replica.entry_count == sum(len(c) for c in src_b.by_author.values()))
    with tempfile.TemporaryDirectory() as tmp:
        floor = _sync_floor(src_b, key_b, room_b.room_id, Path(tmp))
    out[f"sync_floor_{big // 1000}k_s"] = floor
    out["sync_over_floor"] = sync_s / floor
    out["sync_over_floor_cpu"] = SYNC_WATCH.cpu / FLOOR_WATCH.cpu

    out["race_resolve_ms"] = _race(replica, writers_b, 1000) * 1000
    others = [e for chain in src_b.by_author.values() for e in chain[:1000]]
    quiet, busy, flooded, most = _flood_post_cost(replica, writers_b, others, 10 if quick else 20, 1000)
    out["post_ms"] = quiet * 1000
    out["post_ms_after_busy"] = busy * 1000
    out["post_ms_under_pending_flood"] = flooded * 1000
    out["post_flood_ratio"] = flooded / busy
    out["pending_bytes_cap_mb"] = replica.pending.room_cap / 2**20
    out["pending_bytes_held_max_mb"] = most / 2**20

    with tempfile.TemporaryDirectory() as tmp:
        db = _store_room(Path(tmp) / "p", room_b, src_b, key_b, writers_b[0])
        out["bytes_per_message_disk"] = _db_bytes(db) / big
        profile = open_profile(Path(tmp) / "p")
        snapshot = profile.store.snapshot(room_b.room_id)
        assert snapshot is not None
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        Doc().apply_update(snapshot[1])
        apply_floor = time.perf_counter() - start
        floor_cpu = time.process_time() - cpu
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        opened = Room.open(profile, room_b.room_id)
        page = opened.view.page("general", 50)
        out[f"open_{big // 1000}k_s"] = time.perf_counter() - start
        out["open_over_floor_cpu"] = (time.process_time() - cpu) / floor_cpu
        out[f"open_floor_{big // 1000}k_s"] = apply_floor
        out["open_over_floor"] = out[f"open_{big // 1000}k_s"] / apply_floor
        # The floor above also frees the Doc it made (as long as the apply itself); this one is the apply alone.
        doc: Doc[Any] = Doc()
        gc.collect()
        start = time.perf_counter()
        doc.apply_update(snapshot[1])
        apply_only = time.perf_counter() - start
        del doc
        out[f"open_apply_only_{big // 1000}k_s"] = apply_only
        out["open_over_apply_only"] = out[f"open_{big // 1000}k_s"] / apply_only
        assert len(page) == 50
        # Posting through the full stack (validation, fsync'd SQLite commit) at this history size.
        posts = []
        for _ in range(20 if quick else 50):
            s = time.perf_counter()
            opened.post("general", TEXT)
            posts.append(time.perf_counter() - s)
        out[f"post_stored_{big // 1000}k_ms"] = statistics.median(posts) * 1000
        profile.close()

    entries = [e for chain in src_b.by_author.values() for e in chain][:5000]
    start = time.perf_counter()
    for e in entries:
        e.signature_valid()
    out["verify_entries_per_s"] = len(entries) / (time.perf_counter() - start)
    out["ingest_entries_per_s"] = big / sync_s
    return out
