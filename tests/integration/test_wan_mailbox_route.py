"""The mailbox route (app/relay/mailbox.py) against a real relay process on loopback, with real profiles.

Push is ours only, in order, acknowledged after the relay's fsync and never again; pull ingests with
the room's own validation and moves a durable cursor. What a hostile writer slips into a mailbox (an
altered envelope, one sealed under another key, a replay, an entry by a stranger) changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from app.node import Node
from app.profile import open_profile
from app.relay.cursors import RelayCursors
from app.relay.keys import MailboxKeys
from app.relay.mailbox import MailboxRoute, open_entry, pull_set, seal_entry, targets
from app.room import Room
from crdt.entry import Entry
from crdt.schema import MESSAGES
from p2p.relay.client import RelayClient
from p2p.relay.config import RelayTimings
from tests.helpers import value_entry
from tests.integration.relay_proc import RelayProcess
from tests.relay_app_helpers import club

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path / "relay") as proc:
        yield proc


def texts(room: Room) -> list[str]:
    return [m.text for m in room.history()]


async def connected(url: str) -> RelayClient:
    client = RelayClient(url, timings=RelayTimings.for_tests())
    await client.async_start()
    deadline = time.monotonic() + 10
    while not client.connected:
        assert time.monotonic() < deadline, "no connection to the relay"
        await asyncio.sleep(0.05)
    return client


def test_push_pull_cursors_and_a_hostile_writer(tmp_path: Path, relay: RelayProcess) -> None:
    alice, bob = club(tmp_path, "alice", "bob")
    a_room, b_room = alice.find_room("Club"), bob.find_room("Club")
    for i in range(30):
        a_room.post("general", f"note {i}")
    assert not any(t.startswith("note") for t in texts(b_room))

    async def body() -> None:
        a_client, b_client = await connected(relay.url), await connected(relay.url)
        try:
            a_route = MailboxRoute(a_client, RelayCursors(alice.profile.path))
            b_route = MailboxRoute(b_client, RelayCursors(bob.profile.path))
            assert a_route.unacked(a_room) == a_room.log.head(a_room.me) + 1
            pushed = await a_route.async_push(a_room)
            assert pushed == a_room.log.head(a_room.me) + 1 and a_route.unacked(a_room) == 0
            assert await a_route.async_push(a_room) == 0  # acknowledged once, never pushed again
            assert await b_route.async_pull(b_room) == 30 and texts(b_room) == texts(a_room)
            assert await b_route.async_pull(b_room) == 0
            box = pull_set(b_room)[0]
            assert RelayCursors(bob.profile.path).pulled(relay.url, box.label) > 0  # durable

            # A hostile writer (it would need the auth: here a member who has it) fills the mailbox with junk.
            real = seal_entry(box, _last_entry(a_room))  # a replay of what is there
            altered = bytearray(real)
            altered[len(altered) // 2] ^= 1
            other_key = seal_entry(MailboxKeys.for_room_key(bytes(32)), _last_entry(a_room))
            stranger = SigningKey.generate()
            forged = value_entry(a_room.log, stranger, MESSAGES, {"c": "general", "t": "forged", "ts": 1.0})
            await a_client.async_put(box.auth, [bytes(altered), other_key, real, seal_entry(box, forged)])
            before, stored = texts(b_room), b_route.stats.stored
            assert await b_route.async_pull(b_room) == 0
            assert texts(b_room) == before and "forged" not in texts(b_room)
            assert b_route.stats.unreadable == 2 and b_route.stats.stored == stored == 30
            assert open_entry(box, bytes(altered)) is None and open_entry(box, b"") is None
        finally:
            await a_client.async_stop()
            await b_client.async_stop()

    try:
        asyncio.run(body())
    finally:
        alice.close()
        bob.close()


def _last_entry(room: Room) -> Entry:
    return room.profile.store.author_entries(room.id, room.me, room.log.head(room.me), 1)[0]


def test_a_rotation_goes_to_the_old_mailbox_and_the_new(tmp_path: Path) -> None:
    alice = Node(open_profile(tmp_path / "alice", display_name="alice"))
    try:
        room = alice.create_room("Club")
        carol = bytes(SigningKey.generate().verify_key)
        room.add_member(carol, "member", "carol")
        old = room.log.current_key()
        room.remove_member(carol)
        new = room.log.current_key()
        assert old is not None and new is not None and old != new
        removal = _last_entry(room)
        while room.log.graph.nodes.get(removal.hash) is None or room.log.graph.nodes[removal.hash].op.rotation is None:
            removal = room.profile.store.author_entries(room.id, room.me, removal.seq - 1, 1)[0]
        assert targets(room, removal) == [MailboxKeys.for_room_key(old), MailboxKeys.for_room_key(new)]
        room.post("general", "after")
        assert targets(room, _last_entry(room)) == [MailboxKeys.for_room_key(new)]
        assert [b.auth for b in pull_set(room)][:2] == [MailboxKeys.for_room_key(new).auth, MailboxKeys.for_room_key(old).auth]
    finally:
        alice.close()



def test_entries_out_of_order_across_a_restart_are_all_stored(tmp_path: Path, relay: RelayProcess) -> None:
    """The mailbox hands out the newest entries of a chain first (a reordering relay, or older puts that came late);
    the puller restarts while they wait for the ones before them: it still ends with every entry."""
    alice, bob = club(tmp_path, "alice", "bob")
    a_room = alice.find_room("Club")
    for i in range(12):
        a_room.post("general", f"late note {i}")
    box = pull_set(a_room)[0]
    ours = a_room.profile.store.author_entries(a_room.id, a_room.me, a_room.log.head(a_room.me) - 11, 12)

    async def put(entries: list[Entry]) -> None:
        client = await connected(relay.url)
        try:
            await client.async_put(box.auth, [seal_entry(box, e) for e in entries])
        finally:
            await client.async_stop()

    async def pull(node: Node) -> int:
        client = await connected(relay.url)
        try:
            return await MailboxRoute(client, RelayCursors(node.profile.path)).async_pull(node.find_room("Club"))
        finally:
            await client.async_stop()

    def late(node: Node) -> list[str]:
        return [t for t in texts(node.find_room("Club")) if t.startswith("late note")]

    try:
        asyncio.run(put(ours[8:]))  # the newest four first: each waits for the one before it
        assert asyncio.run(pull(bob)) == 0 and late(bob) == []
        bob.close()
        bob = Node(open_profile(tmp_path / "bob"))  # a restart: what waited in memory is gone
        asyncio.run(put(ours[:8]))
        assert asyncio.run(pull(bob)) == 12
        assert late(bob) == [f"late note {i}" for i in range(12)]
        assert asyncio.run(pull(bob)) == 0  # and now the cursor has moved past them all
    finally:
        alice.close()
        bob.close()
