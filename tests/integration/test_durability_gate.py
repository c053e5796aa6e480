"""Received entries: committed and shown at once, fsynced in a worker thread, passed on only once on disk."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app.durability import DurabilityGate
from app.node import Node
from app.profile import DATABASE_FILE, open_profile
from app.room import Room
from crdt.entry import Entry
from crdt.errors import StoreError

from .test_service_loopback import run, service, started, texts, until

pytestmark = pytest.mark.timeout(60)


def _author_and_replica(tmp_path: Path) -> tuple[Room, Room]:
    """Room `a` (its author's) and `b`, a member's copy in a second profile that holds none of its entries yet."""
    author = Node(open_profile(tmp_path / "a", display_name="a"))
    room_a = author.create_room("r")
    replica = open_profile(tmp_path / "b", display_name="b")
    room_a.add_member(replica.public_key)
    replica.store.add_room(room_a.id, "r", room_a.log.keys)
    return room_a, Room.open(replica, room_a.id)


def _new_entries(room: Room, texts_: list[str]) -> list[Entry]:
    got: list[Entry] = []
    room.listeners.append(lambda _r, entries: got.extend(entries))
    for text in texts_:
        room.post("general", text)
    room.listeners.pop()
    return got


def test_a_received_commit_is_visible_at_once_and_counted_until_synced(tmp_path: Path) -> None:
    room_a, room_b = _author_and_replica(tmp_path)
    setup = room_a.profile.store.all_entries(room_a.id)
    store = room_b.profile.store
    room_b.ingest(setup)  # durable by default
    assert store.is_synced()

    room_b.ingest(_new_entries(room_a, ["one", "two"]), durable=False)
    assert texts(room_b) == ["one", "two"]
    assert not store.is_synced() and store.written == 1
    # Committed: another connection (another process) reads it before any fsync.
    other = sqlite3.connect(str(tmp_path / "b" / DATABASE_FILE))
    try:
        assert other.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == len(setup) + 2
    finally:
        other.close()

    store.sync()
    assert store.is_synced()
    room_b.ingest(_new_entries(room_a, ["three"]), durable=False)
    assert not store.is_synced()
    room_b.post("general", "a local write is durable, and so is everything before it")
    assert store.is_synced()


def test_the_gate_runs_callbacks_once_their_commits_are_on_disk(tmp_path: Path) -> None:
    room_a, room_b = _author_and_replica(tmp_path)
    room_b.ingest(room_a.profile.store.all_entries(room_a.id))
    store = room_b.profile.store
    release = threading.Event()
    real_sync = store.sync
    syncs: list[int] = []

    def slow_sync() -> None:  # a slow disk: the first fsync waits until the test lets it go
        release.wait(10)
        syncs.append(store.written)
        real_sync()

    store.sync = slow_sync  # type: ignore[method-assign]

    async def body() -> None:
        gate = DurabilityGate(store)
        order: list[str] = []
        gate.after(lambda: order.append("clear"))
        assert order == ["clear"]  # nothing unsynced: runs at once

        room_b.ingest(_new_entries(room_a, ["first"]), durable=False)
        gate.after(lambda: order.append("first"))
        await asyncio.sleep(0.05)
        assert order == ["clear"] and not store.is_synced()  # the loop runs on while the disk is busy
        room_b.ingest(_new_entries(room_a, ["second"]), durable=False)
        gate.after(lambda: order.append("second"))
        release.set()
        await until(lambda: order == ["clear", "first", "second"], 5, "both callbacks")
        assert store.is_synced()
        assert len(syncs) <= 2  # grouped: one fsync serves every commit made before it started
        await gate.async_close()

    asyncio.run(body())


def test_a_failed_sync_is_retried_and_nothing_waiting_runs_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    room_a, room_b = _author_and_replica(tmp_path)
    room_b.ingest(room_a.profile.store.all_entries(room_a.id))
    store = room_b.profile.store
    real_sync = store.sync
    failures = [1]

    def flaky_sync() -> None:  # the disk refuses the first flush
        if failures:
            failures.pop()
            raise StoreError("the database could not be flushed to disk: I/O error")
        real_sync()

    store.sync = flaky_sync  # type: ignore[method-assign]
    monkeypatch.setattr("app.durability.RETRY_SECONDS", 0.05)

    async def body() -> None:
        gate = DurabilityGate(store)
        ran: list[float] = []
        room_b.ingest(_new_entries(room_a, ["x"]), durable=False)
        gate.after(lambda: ran.append(time.monotonic()))
        await until(lambda: bool(ran), 5, "the retried sync")
        assert not failures and store.is_synced()
        await gate.async_close()

    asyncio.run(body())


def test_a_relay_shows_an_entry_before_its_fsync_but_passes_it_on_only_after(tmp_path: Path) -> None:
    """A - B - C in a line (C never meets A): while B's disk is slow, B shows A's message, C gets nothing."""

    async def body() -> None:
        a, b, c = (service(tmp_path / n, n) for n in "abc")
        async with started(a, b, c):
            room_a = a.create_room("line")
            invite_b, invite_c = a.create_invite(room_a), a.create_invite(room_a)
            await b.async_connect(*a.address)
            room_b = await b.async_join(invite_b.link(), 10)
            await c.async_connect(*b.address)
            room_c = await c.async_join(invite_c.link(), 10)  # admitted by B
            assert c.node.profile.public_key not in a.peer.peers()
            room_a.post("general", "hello")
            # B used the invite A also holds to admit C; that must not end B's sync with A.
            await until(lambda: texts(room_c) == ["hello"], 10, "C got the first message through B")

            store = b.node.profile.store
            release = threading.Event()
            real_sync = store.sync

            def slow_sync() -> None:
                release.wait(10)
                real_sync()

            store.sync = slow_sync  # type: ignore[method-assign]
            room_a.post("general", "held")
            await until(lambda: texts(room_b) == ["hello", "held"], 5, "B showed the message")
            await asyncio.sleep(0.3)
            assert not store.is_synced()
            assert texts(room_c) == ["hello"], "B passed on an entry that was not yet on its disk"
            release.set()
            await until(lambda: texts(room_c) == ["hello", "held"], 5, "C got it once B's disk had it")

    run(body)


def test_checkpoints_aside_let_commits_overwrite_the_log_instead_of_growing_it(tmp_path: Path) -> None:
    room_a, _ = _author_and_replica(tmp_path)
    store = room_a.profile.store
    wal = Path(f"{store.path}-wal")
    for i in range(30):
        room_a.post("general", f"fill the log {i}")
    grown = wal.stat().st_size
    for i in range(5):
        room_a.post("general", f"no checkpoint yet {i}")
    assert wal.stat().st_size > grown, "without a checkpoint every commit appends to the log"

    async def body() -> None:
        gate = DurabilityGate(store)
        task = asyncio.get_running_loop().create_task(gate.async_checkpoints(every=0.05))
        try:
            await asyncio.sleep(0.3)  # a few rounds in the worker thread; nothing was written since the first
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await gate.async_close()

    asyncio.run(body())
    size = wal.stat().st_size
    for i in range(5):
        room_a.post("general", f"after the checkpoint {i}")
    assert wal.stat().st_size == size, "after a checkpoint, commits overwrite the log from its start"
    assert [m.text for m in room_a.history("general")][-1] == "after the checkpoint 4"


def test_a_disk_that_never_syncs_does_not_keep_the_node_from_stopping(tmp_path: Path) -> None:
    room_a, room_b = _author_and_replica(tmp_path)
    room_b.ingest(room_a.profile.store.all_entries(room_a.id))
    store = room_b.profile.store

    def broken_sync() -> None:  # the disk refuses every flush
        raise StoreError("the database could not be flushed to disk: I/O error")

    store.sync = broken_sync  # type: ignore[method-assign]

    async def body() -> None:
        gate = DurabilityGate(store)
        ran: list[str] = []
        room_b.ingest(_new_entries(room_a, ["never on disk"]), durable=False)
        gate.after(lambda: ran.append("passed on"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await asyncio.wait_for(gate.async_close(), 5)
        assert time.monotonic() - started < 3
        assert ran == [], "nothing may be passed on when the entries never reached the disk"

    asyncio.run(body())
