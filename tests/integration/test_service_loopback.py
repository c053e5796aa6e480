"""NodeServices over real aiortc sessions on loopback: joins through any member, live fan-out, catch-up, invites, live signals."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from app.errors import BadInvite
from app.node import Node
from app.profile import open_profile
from app.room import Room
from app.service import NodeService
from crdt.entry import Entry
from p2p.config import Timings

pytestmark = pytest.mark.timeout(60)


def run(test: Callable[[], Awaitable[None]], timeout: float = 45) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def service(profile_dir: Path, name: str, timings: Timings | None = None) -> NodeService:
    """A NodeService on loopback with short timings and no mDNS (peers are dialed explicitly)."""
    node = Node(open_profile(profile_dir, display_name=name))
    return NodeService(node, bind_host="127.0.0.1", mdns=False, timings=timings or Timings.for_tests())


async def stop(svc: NodeService) -> None:
    await svc.async_stop()
    svc.node.close()


@contextlib.asynccontextmanager
async def started(*services: NodeService) -> AsyncIterator[None]:
    try:
        for svc in services:
            await svc.async_start()
        yield
    finally:
        for svc in services:
            with contextlib.suppress(Exception):
                await stop(svc)


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def texts(room: Room) -> list[str]:
    return [m.text for m in room.history("general")]


def ids(room: Room) -> list[str]:
    return [m.id for m in room.history("general")]


def arrivals(svc: NodeService, room_id: bytes) -> asyncio.Queue[str]:
    """A queue of the message texts a service's room listener reports (pushed, never polled)."""
    queue: asyncio.Queue[str] = asyncio.Queue()

    def on_entries(room: Room, entries: list[Entry]) -> None:
        if room.id == room_id:
            for m in room.history("general")[-len(entries):]:
                queue.put_nowait(m.text)

    svc.listeners.entries.append(on_entries)
    return queue


async def wait_text(queue: asyncio.Queue[str], text: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = await asyncio.wait_for(queue.get(), max(0.01, deadline - time.monotonic()))
        if got == text:
            return


def test_join_via_another_member_fanout_catchup_and_single_use_invites(tmp_path: Path) -> None:
    async def body() -> None:
        a, b = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob")
        async with started(a, b):
            room_a = a.create_room("party")
            room_a.post("general", "before anyone joined")
            invite_b, invite_c = a.create_invite(room_a), a.create_invite(room_a)
            assert await b.async_connect(*a.address) == a.node.profile.public_key
            room_b = await b.async_join(invite_b.link(), 10)
            assert room_b.id == room_a.id and room_b.my_role() is not None
            await until(lambda: ids(room_b) == ids(room_a), 5, "B caught up with A")
            # B must hold A's record of C's invite to admit C on its own.
            assert invite_c.invite_id in room_b.log.state().invites

        # Only B is online when C joins: B admits C.
        b, c = service(tmp_path / "b", "Bob"), service(tmp_path / "c", "Carol")
        async with started(b, c):
            await c.async_connect(*b.address)
            room_c = await c.async_join(invite_c.link(), 10)
            c_key = c.node.profile.public_key
            state = room_c.log.state()
            assert c_key in state.members
            assert state.invites[invite_c.invite_id].used_by == (c_key,)
            await until(lambda: ids(b.node.room(room_c.id)) == ids(room_c), 5, "C caught up with B")
            assert "before anyone joined" in [m.text for m in room_c.history("general")]
            b_addr = b.address

            # The link is single-use: a second joiner with the same link is refused.
            d = service(tmp_path / "d", "Dave")
            async with started(d):
                await d.async_connect(*b_addr)
                with pytest.raises(BadInvite, match="already used"):
                    await d.async_join(invite_c.link(), 1.5)
                assert room_c.id not in {rid for rid, _ in d.node.room_list()} or \
                    d.node.room(room_c.id).my_role() is None

        # An expired link fails at once, with a clear sentence.
        a = service(tmp_path / "a", "Alice")
        async with started(a):
            short = a.create_invite(a.node.room(room_a.id), valid_seconds=0.05)
        await asyncio.sleep(0.1)
        e = service(tmp_path / "e", "Eve")
        async with started(e):
            with pytest.raises(BadInvite, match="expired"):
                await e.async_join(short.link(), 2)

        # Three nodes in a mesh: a post reaches the other two without any polling.
        a, b, c = (service(tmp_path / n, n) for n in "abc")
        async with started(a, b, c):
            rid = room_a.id
            await b.async_connect(*a.address)
            await c.async_connect(*a.address)
            await c.async_connect(*b.address)
            rooms = [s.node.room(rid) for s in (a, b, c)]
            await until(lambda: all(rid in s.peer.shared_rooms(p) for s in (a, b, c) for p in s.peer.peers())
                        and all(len(s.peer.peers()) == 2 for s in (a, b, c)), 10, "a full mesh")
            await until(lambda: len({tuple(ids(r)) for r in rooms}) == 1, 5, "the mesh converged")
            queues = [arrivals(s, rid) for s in (a, b, c)]
            for i, (svc, room) in enumerate(zip((a, b, c), rooms)):
                text = f"live from {i}"
                posted = time.monotonic()
                room.post("general", text)
                for j, queue in enumerate(queues):
                    if j != i:
                        await wait_text(queue, text, 3)
                print(f"\nfan-out from node {i}: {(time.monotonic() - posted) * 1000:.1f} ms")

            # C goes offline; A and B keep posting; C comes back with the same profile and catches up.
            await stop(c)
            await until(lambda: c.node.profile.public_key not in a.peer.peers(), 5, "A noticed C left")
            for i in range(15):
                rooms[0].post("general", f"missed a{i}")
                rooms[1].post("general", f"missed b{i}")
            await until(lambda: ids(rooms[0]) == ids(rooms[1]), 5, "A and B converged")
            c = service(tmp_path / "c", "Carol")
            await c.async_start()
            try:
                back = time.monotonic()
                await c.async_connect(*a.address)
                room_c = c.node.room(rid)
                await until(lambda: ids(room_c) == ids(rooms[0]), 10, "C caught up after being offline")
                print(f"catch-up of 30 messages: {time.monotonic() - back:.2f} s")
                texts = [m.text for m in room_c.history("general")]
                assert len(texts) == len(set(ids(room_c)))
                assert {f"missed a{i}" for i in range(15)} <= set(texts)
            finally:
                await stop(c)

    run(body)


def test_typing_and_presence_travel_live_and_are_never_stored(tmp_path: Path) -> None:
    async def body() -> None:
        a, b = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob")
        async with started(a, b):
            room_a = a.create_room("quiet")
            link = a.create_invite(room_a).link()
            await b.async_connect(*a.address)
            room_b = await b.async_join(link, 10)
            await until(lambda: ids(room_b) == ids(room_a)
                        and room_a.log.heads() == room_b.log.heads(), 5, "B caught up")
            await asyncio.sleep(0.2)
            stores = [(a.node.profile.store, room_a.id), (b.node.profile.store, room_b.id)]
            counts = [s.count(r) for s, r in stores]

            typing: asyncio.Queue[tuple[bytes, str, bytes, bool]] = asyncio.Queue()
            b.listeners.typing.append(lambda rid, ch, peer, on: typing.put_nowait((rid, ch, peer, on)))
            presence: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
            b.listeners.presence.append(lambda peer, status: presence.put_nowait((peer, status)))
            alice = a.node.profile.public_key

            a.set_typing(room_a, "general", True)
            assert await asyncio.wait_for(typing.get(), 3) == (room_a.id, "general", alice, True)
            assert b.typing_in(room_a.id, "general") == [alice]
            a.set_typing(room_a, "general", False)
            assert (await asyncio.wait_for(typing.get(), 3))[3] is False
            assert b.typing_in(room_a.id, "general") == []

            assert b.status_of(alice) == "online"
            a.set_status("idle")
            assert await asyncio.wait_for(presence.get(), 3) == (alice, "idle")
            assert b.status_of(alice) == "idle"

            await asyncio.sleep(0.3)
            assert [s.count(r) for s, r in stores] == counts, "a live signal was written to the log"
            assert room_b.log.heads() == room_a.log.heads()

            await a.async_stop()
            await until(lambda: b.status_of(alice) == "offline", 5, "B saw Alice go offline")

    run(body)
