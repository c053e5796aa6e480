"""A hijack of a public-room join: someone who read the room id off the LAN answers the joiner first with
bogus keys. The joiner keeps only a grant whose keys open the room's signed genesis, counts the bogus one
against its sender, and still joins the real room."""

from __future__ import annotations

import asyncio
import os

import pytest
from nacl.signing import SigningKey

from app.wire import Grant, public_secret
from crdt.cipher import new_room_key, seal_to_member
from crdt.room import genesis_entry
from p2p import PeerNode, RoomMatched, RoomSecret, Timings
from tests.integration.test_service_loopback import run, service, started, texts, until

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("bogus", ["random-keys", "other-genesis"])
def test_a_join_ignores_a_bogus_grant_that_arrives_first(tmp_path, bogus: str) -> None:
    async def body() -> None:
        owner, joiner = service(tmp_path / "o", "Olivia"), service(tmp_path / "j", "Jo")
        mallory = PeerNode(SigningKey.generate(), bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests())
        await mallory.async_start()
        try:
            async with started(owner, joiner):
                room = owner.create_room("lobby")
                room.update_settings(public=True)
                owner.refresh_secrets()
                room.post("general", "welcome")
                rid = room.id
                # Mallory claims the public room: its join secret comes from the broadcast room id alone.
                mallory.set_secrets([RoomSecret(rid, public_secret(rid), "public")])
                fake_key = new_room_key()
                fake = genesis_entry(SigningKey.generate(), fake_key, "lobby")

                def answer(event: object) -> None:
                    if isinstance(event, RoomMatched) and event.my_label == "public":
                        jo = event.peer
                        keys = {rid: seal_to_member(jo, os.urandom(32) if bogus == "random-keys" else fake_key)}
                        genesis = fake.encode() if bogus == "other-genesis" else os.urandom(120)
                        mallory.send(jo, "sync", rid, Grant("lobby", keys, genesis=genesis).encode())

                mallory.add_listener(answer)
                jo_key = joiner.node.profile.public_key
                await joiner.async_connect(*mallory.address)  # Mallory is met first...
                await until(lambda: mallory.session(jo_key) is not None, 5, "Mallory's session")
                await asyncio.sleep(0.2)
                joining = asyncio.create_task(joiner.async_join_public(rid, 15))
                await asyncio.sleep(0.5)  # ...and answers first
                await joiner.async_connect(*owner.address)
                joined = await joining
                assert joined.id == rid and joined.my_role() is not None
                await until(lambda: texts(joined) == ["welcome"], 5, "the real room's history")
                assert joiner.invalid.get(bytes(mallory.identity.verify_key), 0) >= 1, "the bogus grant was not counted"
                assert joiner.node.profile.store.keys(rid) == {rid: room.log.keys.get(rid)}
        finally:
            await mallory.async_stop()

    run(body)
