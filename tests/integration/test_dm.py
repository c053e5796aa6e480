"""Direct messages over real aiortc on loopback: a room of two pushed to a peer we share a room with, and refused from strangers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.errors import HubbubError
from app.service import NodeService, timings_for_tests
from app.wire import Grant
from crdt.cipher import seal_to_member
from p2p.events import Received
from p2p.rooms import PublicRoomSeen

from .test_service_loopback import run, service, started, stop, texts, until

pytestmark = pytest.mark.timeout(60)


async def joined_pair(tmp_path: Path) -> tuple[NodeService, NodeService, bytes]:
    """Alice and Bob, connected, both members of Alice's room "party" (Bob joined by invite)."""
    a, b = service(tmp_path / "a", "Alice", timings_for_tests()), service(tmp_path / "b", "Bob", timings_for_tests())
    await a.async_start()
    await b.async_start()
    room = a.create_room("party")
    await b.async_connect(*a.address)
    await b.async_join(a.create_invite(room).link(), 15)
    await until(lambda: room.id in a.peer.shared_rooms(b.node.profile.public_key), 10, "the room to be shared")
    return a, b, room.id


def test_open_dm_pushes_a_direct_room_both_post_and_read(tmp_path: Path) -> None:
    async def body() -> None:
        a, b, party = await joined_pair(tmp_path)
        try:
            akey, bkey = a.node.profile.public_key, b.node.profile.public_key
            dm = await a.async_open_dm(bkey)
            assert dm.is_direct() and dm.direct_peer() == bkey and dm.name == "Alice & Bob"
            assert not a.node.room(party).is_direct()
            # Bob's node keeps it and syncs it.
            await until(lambda: dm.id in {rid for rid, _ in b.node.room_list()}, 10, "the direct room at Bob")
            bdm = b.node.room(dm.id)
            await until(lambda: bdm.is_direct() and bdm.my_role() is not None, 10, "Bob to be a member of it")
            assert bdm.direct_peer() == akey
            assert b.direct_room_with(akey) is bdm
            dm.post("general", "hi bob, just us")
            await until(lambda: "hi bob, just us" in texts(bdm), 10, "Alice's message at Bob")
            bdm.post("general", "hi alice")
            await until(lambda: "hi alice" in texts(dm), 10, "Bob's reply at Alice")
            # Opening again returns the same room, from either side.
            assert (await a.async_open_dm(bkey)).id == dm.id
            assert (await b.async_open_dm(akey)).id == dm.id
            assert len(a.node.room_list()) == len(b.node.room_list()) == 2
        finally:
            for svc in (a, b):
                await svc.async_stop()
                svc.node.close()

    run(body)


def test_dm_refused_from_a_peer_sharing_no_room_and_offline_is_a_sentence(tmp_path: Path) -> None:
    async def body() -> None:
        b, c = service(tmp_path / "b", "Bob", timings_for_tests()), service(tmp_path / "c", "Carol", timings_for_tests())
        async with started(b, c):
            held = b.create_room("bob's own")
            assert await c.async_connect(*b.address) == b.node.profile.public_key
            bkey = b.node.profile.public_key
            ckey = c.node.profile.public_key
            await until(lambda: bkey in c.peer.peers() and ckey in b.peer.peers(), 10, "the session")
            # Carol shares no room with Bob: opening a DM says so, and nothing is created.
            with pytest.raises(HubbubError, match="share"):
                await c.async_open_dm(bkey)
            assert c.node.room_list() == []
            # A grant crafted by Carol, delivered as if in a room Bob holds, is refused.
            spam = c.node.create_room("Carol & Bob")
            sealed = {e: seal_to_member(bkey, k) for e, k in spam.log.keys.items()}
            payload = Grant(spam.name, sealed, room=spam.id, direct=True).encode()
            b._handle(Received(ckey, "sync", held.id, payload))
            await asyncio.sleep(0.1)
            assert spam.id not in {rid for rid, _ in b.node.room_list()}
            # Someone offline: one sentence.
            with pytest.raises(HubbubError, match="offline"):
                await b.async_open_dm(bytes(32))

    run(body)


def test_idle_after_no_activity_and_back_online_and_public_room_listener(tmp_path: Path) -> None:
    async def body() -> None:
        a, b, _ = await joined_pair(tmp_path)  # presence goes only to members of a room we share
        try:
            akey = a.node.profile.public_key
            await b.async_connect(*a.address)
            room = a.create_room("status")
            await b.async_join(a.create_invite(room).link(), 10)  # presence goes only to peers sharing a room
            await until(lambda: b.status_of(akey) == "online", 10, "Alice online at Bob")
            a.idle_after = 0.2
            await asyncio.sleep(1.3)
            assert a.status_of(akey) == "online", "a node nobody reported activity for never goes idle"
            a.note_activity()
            await until(lambda: b.status_of(akey) == "idle", 5, "Alice to go idle by herself")
            a.note_activity()
            await until(lambda: b.status_of(akey) == "online", 5, "Alice back online on activity")
            a.set_status("idle")  # said by the person: activity does not undo it
            a.note_activity()
            assert a.status_of(akey) == "idle"
            # The public-room list: a change fires the listener once.
            fired: list[int] = []
            a.listeners.public_rooms.append(lambda: fired.append(1))
            a._check_public_rooms()
            assert fired == []  # nothing announced, nothing changed
            seen = [PublicRoomSeen(bytes(32), "lan party", ("games",), 3, "127.0.0.1", 1, "x")]
            a.peer.public_rooms = lambda: seen  # type: ignore[method-assign]  # (mDNS is off in loopback tests)
            await until(lambda: fired == [1], 5, "the public-room listener")
            a._check_public_rooms()
            assert fired == [1]
        finally:
            await stop(a)
            await stop(b)

    run(body)


def test_presence_and_names_go_only_to_members_of_a_shared_room(tmp_path: Path) -> None:
    async def body() -> None:
        a, b, _ = await joined_pair(tmp_path)
        stranger = service(tmp_path / "c", "Mallory", timings_for_tests())
        await stranger.async_start()
        try:
            akey = a.node.profile.public_key
            heard: list[dict[str, object]] = []
            stranger.listeners.live.append(lambda peer, room, msg: heard.append(msg))
            assert await stranger.async_connect(*a.address) == akey  # a session, but no room in common
            a.set_status("idle")
            await until(lambda: b.status_of(akey) == "idle", 5, "Bob, a room-mate, heard Alice's status")
            await asyncio.sleep(0.3)
            assert heard == [] and stranger.direct.peer_name(akey) == akey.hex()[:8], "a stranger learnt Alice's name"
        finally:
            for svc in (stranger, a, b):
                await stop(svc)

    run(body)


def test_grant_wire_form() -> None:
    from app.wire import GRANT, WireError, decode_sync_channel

    rot = b"r" * 32
    g = Grant("A & B", {rot: b"k" * 72}, room=bytes(range(32)), direct=True, genesis=b"\x01genesis")
    assert decode_sync_channel(g.encode()) == (GRANT, g)
    plain = Grant("party", {rot: b"k" * 72})
    assert decode_sync_channel(plain.encode()) == (GRANT, plain)
    r = b'"' + rot.hex().encode() + b'"'
    for bad in (b'{"dm":true,"keys":{' + r + b':"00"},"name":"x"}', b'{"dm":true,"keys":{' + r + b':"00"},"name":"x","room":"00"}',
                b'{"keys":{' + r + b':"00"},"name":"x","room":"' + b"00" * 32 + b'"}',
                b'{"keys":{"0":"00"},"name":"x"}',  # a key named by something that is not a rotation id
                b'{"name": "x", "keys": {' + r + b': "00"}}',  # not canonical
                b'{"keys":' + b"[" * 40 + b"]" * 40 + b',"name":"x"}'):  # nested too deeply
        with pytest.raises(WireError):
            decode_sync_channel(bytes((GRANT,)) + bad)


def test_two_people_opening_a_dm_at_once_end_up_in_one_room(tmp_path: Path) -> None:
    async def body() -> None:
        a, b, _party = await joined_pair(tmp_path)
        try:
            akey, bkey = a.node.profile.public_key, b.node.profile.public_key
            mine, theirs = await asyncio.gather(a.async_open_dm(bkey), b.async_open_dm(akey))
            assert mine.id != theirs.id  # both created one before hearing of the other's
            await until(lambda: len(a.direct_rooms_with(bkey)) == len(b.direct_rooms_with(akey)) == 2, 10,
                        "each side to hold both rooms")
            chosen = min(mine.id, theirs.id)
            assert a.direct_room_with(bkey).id == b.direct_room_with(akey).id == chosen  # type: ignore[union-attr]
            assert (await a.async_open_dm(bkey)).id == (await b.async_open_dm(akey)).id == chosen
            a.node.room(chosen).post("general", "one conversation")
            await until(lambda: "one conversation" in texts(b.node.room(chosen)), 10, "the message at Bob")
        finally:
            for svc in (a, b):
                await svc.async_stop()
                svc.node.close()

    run(body)
