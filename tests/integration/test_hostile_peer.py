"""A hostile peer against NodeServices over real aiortc: a non-member's entry, garbage and oversized sync frames, a forged SDP.

The hostile peer holds the room key (it knows the room secret, so room matching succeeds) but
is not a member. The honest nodes must store none of its entries, pass none on, send it no
entries, drop and ban it, and keep syncing with each other throughout.
"""

from __future__ import annotations

import asyncio
import struct
import time
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from app.service import NodeService
from app.wire import encode_sync, room_secret
from crdt.entry import MAX_ENTRY_SIZE
from crdt.schema import MESSAGES
from crdt.sync import FRAME_ENTRIES, SYNC_VERSION, HeadsReceived, decode_frame, encode_entries
from crdt.varint import write_uint
from p2p import PeerBanned, PeerEvent, PeerNode, Received, RoomSecret, Timings
from p2p.frames import MAX_PAYLOAD_SIZE, FrameType
from tests.helpers import value_entry
from tests.integration.test_p2p_loopback import raw_exchange, signed_offer
from tests.integration.test_service_loopback import service as loopback_service
from tests.integration.test_service_loopback import texts, until

pytestmark = pytest.mark.timeout(60)


def service(profile_dir: Path, name: str) -> NodeService:
    timings = Timings.for_tests()
    timings.malformed_limit = 5  # one strike per attack below; the fifth bans
    return loopback_service(profile_dir, name, timings)


def test_hostile_key_holder_is_rejected_banned_and_honest_nodes_keep_syncing(tmp_path: Path) -> None:
    async def body() -> None:
        a, b = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob")
        evil = SigningKey.generate()
        hostile = PeerNode(evil, bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests())
        evil_key = bytes(evil.verify_key)
        await a.async_start()
        await b.async_start()
        await hostile.async_start()
        try:
            room_a = a.create_room("guarded")
            room_a.post("general", "members only")
            await b.async_connect(*a.address)
            room_b = await b.async_join(a.create_invite(room_a).link(), 10)
            rid = room_a.id
            await until(lambda: texts(room_b) == texts(room_a), 5, "B caught up")

            # The hostile peer somehow has the room key: it proves the room secret and gets matched.
            banned: list[PeerBanned] = []
            a.peer.add_listener(lambda e: banned.append(e) if isinstance(e, PeerBanned) else None)
            hostile.set_secrets([RoomSecret(rid, room_secret(room_a.log.current_key()), "room")])
            await hostile.async_connect(*a.address)
            await until(lambda: rid in a.peer.shared_rooms(evil_key), 5, "A matched the room with the hostile peer")
            a_key = a.node.profile.public_key
            stored = (a.node.profile.store.count(rid), b.node.profile.store.count(rid))

            # 1. A syntactically valid, correctly encrypted entry signed by a non-member.
            forged = value_entry(room_a.log, evil, MESSAGES, {"c": "general", "t": "forged", "ts": time.time() * 1000})
            hostile.send(a_key, "sync", rid, encode_sync(encode_entries([forged.encode()])))
            await until(lambda: a.stats["rejected"] >= 1, 5, "A rejected the forged entry")
            assert evil_key not in room_a.log.chains and "forged" not in texts(room_a)
            assert a.invalid[evil_key] >= 1 and not banned

            # Still connected, the honest nodes keep syncing live.
            room_b.post("general", "after the forgery")
            await until(lambda: "after the forgery" in texts(room_a), 5, "B's post reached A")

            # 2. Garbage on the sync channel: an unknown message type, a broken sync frame.
            hostile.send(a_key, "sync", rid, b"\x07garbage")
            hostile.send(a_key, "sync", rid, encode_sync(bytes((SYNC_VERSION, FRAME_ENTRIES)) + b"\xff" * 12))
            # 3. Oversized: a sync frame holding an entry over the entry cap, and a DATA frame whose
            #    payload claims more than the wire cap (aiortc itself refuses to send a larger message).
            claim = bytearray((SYNC_VERSION, FRAME_ENTRIES))
            write_uint(claim, 1)
            write_uint(claim, MAX_ENTRY_SIZE + 1)
            hostile.send(a_key, "sync", rid, encode_sync(bytes(claim) + b"\x00" * 64))
            session = hostile.session(a_key)
            assert session is not None and evil_key in a.peer.peers(), "banned before the last attack"
            session.send_raw("sync", bytes((1, FrameType.DATA)) + struct.pack(">I", len(rid)) + rid
                             + struct.pack(">I", MAX_PAYLOAD_SIZE + 1) + b"\x00" * 200_000)
            await until(lambda: a.peer.is_banned(evil_key), 5, "A banned the hostile peer")
            assert banned and banned[0].peer == evil_key
            await until(lambda: evil_key not in a.peer.peers(), 5, "A dropped the hostile peer")

            # 4. A forged SDP (signature no longer matches) at A's signaling endpoint.
            before = a.peer.malformed_signaling
            reason = await raw_exchange(a.address, await signed_offer(a.peer, tamper_sdp=True))
            assert reason is not None and b"signature" in reason
            assert a.peer.malformed_signaling > before

            # The honest pair still works both ways, and nothing hostile was stored or passed on.
            room_a.post("general", "still here")
            room_b.post("general", "me too")
            await until(lambda: {"still here", "me too"} <= set(texts(room_a)) & set(texts(room_b)), 5,
                        "A and B still sync after the attack")
            for svc, room in ((a, room_a), (b, room_b)):
                assert evil_key not in room.log.chains
                assert "forged" not in texts(room)
                rows = svc.node.profile.store.all_entries(rid)
                assert all(e.author != evil_key for e in rows)
            assert a.node.profile.store.count(rid) == stored[0] + 3
            assert b.node.profile.store.count(rid) == stored[1] + 3
            assert b.stats["rejected"] == 0

            # The non-member was never sent a single entry: a match on the room secret alone opens nothing
            # (at most heads, which carry no content).
            received: list[PeerEvent] = []
            while not hostile.events.empty():
                received.append(hostile.events.get_nowait())
            frames = [e.payload for e in received if isinstance(e, Received) and e.channel == "sync"]
            for payload in frames:
                assert isinstance(decode_frame(payload[1:]), HeadsReceived), "a non-member received room entries"
            with pytest.raises(Exception, match="banned"):
                await hostile.async_connect(*a.address)
        finally:
            await hostile.async_stop()
            for svc in (a, b):
                await svc.async_stop()
                svc.node.close()

    asyncio.run(asyncio.wait_for(body(), 45))

