"""A removed member, still connected, gets nothing from the room after its removal, whatever it sends."""

from __future__ import annotations

import asyncio

import pytest

from app.wire import encode_sync
from crdt.schema import MESSAGES
from crdt.sync import encode_entries, encode_heads
from p2p.events import Received
from tests.helpers import pub, value_entry
from tests.integration.test_service_loopback import run, service, started, texts, until

pytestmark = pytest.mark.timeout(60)


def test_a_removed_member_gets_nothing_after_its_removal(tmp_path) -> None:
    async def body() -> None:
        a, b, c = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob"), service(tmp_path / "c", "Carol")
        async with started(a, b, c):
            room_a = a.create_room("party")
            room_a.post("general", "before")
            for joiner in (b, c):
                await joiner.async_connect(*a.address)
                await joiner.async_join(a.create_invite(room_a).link(), 10)
            room_b, room_c = b.node.room(room_a.id), c.node.room(room_a.id)
            await c.async_connect(*b.address)
            await until(lambda: texts(room_c) == ["before"], 5, "C caught up")
            c_key = c.node.profile.public_key

            room_a.remove_member(c_key)
            await until(lambda: c_key not in room_b.log.state().members, 5, "B learned of the removal")
            room_a.post("general", "after, for members only")
            room_b.post("general", "me too")
            await until(lambda: "me too" in texts(room_a) and "after, for members only" in texts(room_b), 5, "A and B")

            # C sends an entry that can only wait (a gap in its chain) and its heads: it is answered with nothing.
            gap = value_entry(room_c.log, c.node.profile.identity, MESSAGES, {"c": "general", "t": "hi?", "ts": 1.0},
                              seq=room_c.log.head(c_key) + 3)
            sent_to_c: list[bytes] = []
            c.peer.add_listener(lambda e: sent_to_c.append(e.payload)
                                if isinstance(e, Received) and e.channel == "sync" and e.payload[:1] == b"\x00" else None)
            for peer in (a.node.profile.public_key, b.node.profile.public_key):
                with_heads = encode_sync(encode_heads({pub(c.node.profile.identity): 0}))
                c.peer.send(peer, "sync", room_a.id, with_heads)
                c.peer.send(peer, "sync", room_a.id, encode_sync(encode_entries([gap.encode()])))
            await asyncio.sleep(1.0)
            from crdt.sync import EntriesReceived, decode_frame

            got = [decode_frame(p[1:]) for p in sent_to_c]
            assert not any(isinstance(f, EntriesReceived) and f.entries for f in got), "a removed member was sent entries"
            assert "after, for members only" not in texts(room_c) and "me too" not in texts(room_c)
            rows = c.node.profile.store.all_entries(room_a.id)
            assert all(e.author != a.node.profile.public_key or e.seq <= room_a.log.head(a.node.profile.public_key) - 1
                       for e in rows)
            # Nor can it read what was written after its removal: it lacks the new key.
            assert room_a.log.current_key() not in room_c.log.keys.as_dict().values()

    run(body)
