"""A hostile relay at app level that forges joins: nobody is added to a room through it.

A real `RelayServer` subclass on loopback (this test's loop) and real `NodeService`s (real aiortc,
loopback, mDNS off, no `--connect`: they meet only through relays). First the relay is honest and
records every sealed frame it forwards while Carol joins Alice's room. Then it turns hostile: it
forwards nothing genuine and instead
  * announces ghost handles under every token (PEERS), so each node dials a ghost or waits for one;
  * replays every frame it recorded (Carol's join, and every frame dropped since) to every
    subscriber of the token, from a ghost, and the same frames under the other tokens too;
  * answers every frame a node sends with the other side's recorded answers (another join's
    answers: the only "grant" a relay can make up, as grants travel in the session it cannot make),
    with the node's own frame reflected, and with random bytes.
Dave, invited with a link that names only this relay, does not get in: his join fails with one
sentence and leaves nothing behind (no room, no join, no session); nobody's membership changes on
any member node and his invite stays unspent. Then an honest relay is added next to the hostile
one: a new link naming both gets Dave in, while the hostile relay keeps forging (the link that named only the
hostile relay is still unspent: a joiner meets through the relays its link names).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pytest

from app.errors import BadInvite
from app.node import Node
from app.profile import open_profile
from app.relay.settings import set_room_relays
from app.room import Room
from app.service import NodeService
from p2p.config import Timings
from p2p.relay.config import RelayLimits, RelayTimings
from p2p.relay.connection import Connection
from p2p.relay.dispatch import Dispatcher
from p2p.relay.server import RelayServer
from p2p.relay.wire import Frame, Kind, encode
from tests.integration.test_service_loopback import until

pytestmark = pytest.mark.timeout(150)

GHOST_LOW, GHOST_HIGH = b"\x00" * 16, b"\xff" * 16  # the side with the smaller handle dials: one ghost of each kind
BUDGET = 600  # frames made up per phase (enough for every kind of forgery, without burying the machine)


class ForgingRelay(RelayServer):
    """A relay that records what it forwards while honest, and when `hostile` forwards nothing and forges joins."""

    def __init__(self, data: Path) -> None:
        super().__init__(data, RelayLimits())
        self.hostile = False
        self.recorded: list[tuple[bytes, bytes]] = []  # (token, sealed payload) of every frame nodes sent
        self.injected = 0
        self.budget = BUDGET
        self.dispatcher = ForgingDispatcher(self)

    def notify(self, tokens: set[bytes]) -> None:
        if not self.hostile:
            super().notify(tokens)
            return
        for token in tokens:  # the real subscribers, plus two ghosts under every token
            subs = self.rendezvous.subscribers(token)
            for conn, handle in subs:
                others = [h for c, h in subs if c is not conn][:62] + [GHOST_LOW, GHOST_HIGH]
                assert isinstance(conn, Connection)
                conn.send(encode(Kind.PEERS, 0, token, handle, items=others))
            self.forge_under(token)

    def deliver(self, conn: Any, token: bytes, sender: bytes, payload: bytes) -> None:
        if self.budget > 0:
            self.budget -= 1
            self.injected += 1
            conn.send(encode(Kind.DELIVER, 0, token, sender, payload))

    def forge_under(self, token: bytes) -> None:
        """Replay every recorded frame, and some random ones, to every subscriber of `token`, from a ghost."""
        for conn, _handle in self.rendezvous.subscribers(token):
            for _token, payload in list(self.recorded):  # under its own token (a replay) or another (cross-token)
                self.deliver(conn, token, GHOST_LOW, payload)
            self.deliver(conn, token, GHOST_LOW, os.urandom(1024))

    def all_tokens(self) -> set[bytes]:
        return {t for conn in list(self.connections) for t in self.rendezvous.tokens_of(conn)}


class ForgingDispatcher(Dispatcher):
    """Forwards honestly (and records) until the relay turns hostile; then answers every forward with forgeries."""

    server: ForgingRelay

    def _forward(self, conn: Any, frame: Frame) -> None:
        token, handle, payload = frame.fields
        relay = self.server
        if relay.rendezvous.handle_of(conn, token) is None:
            super()._forward(conn, frame)  # refused as the real relay refuses it
            return
        if not relay.hostile:
            relay.recorded.append((bytes(token), bytes(payload)))
            super()._forward(conn, frame)
            return
        earlier = [p for t, p in relay.recorded if p != payload]
        relay.recorded.append((bytes(token), bytes(payload)))  # dropped, and replayed to the others later
        relay.deliver(conn, token, handle, payload)  # its own frame, reflected as if from the one it addressed
        for other in earlier[-20:]:  # another conversation's frames as the "answer"
            relay.deliver(conn, token, handle, other)
        relay.deliver(conn, token, handle, os.urandom(len(payload)))
        target: Hashable | None = relay.rendezvous.resolve(token, handle)
        if target is not None and target is not conn:  # the addressee gets the frame from a ghost, never from its sender
            relay.deliver(target, token, GHOST_HIGH, payload)


async def forge_forever(relay: ForgingRelay) -> None:
    """While hostile: every half second, re-announce the ghosts and replay what was recorded under every token."""
    while True:
        await asyncio.sleep(0.5)
        if relay.hostile:
            relay.notify(relay.all_tokens())


def service(tmp: Path, name: str) -> NodeService:
    node = Node(open_profile(tmp / name, display_name=name))
    return NodeService(node, bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests(),
                       relay_timings=RelayTimings.for_tests())


def members(room: Room) -> set[bytes]:
    return set(room.log.state().members)


def malformed(svc: NodeService, url: str) -> int:
    link = svc.relays.links.get(url)
    return 0 if link is None else link.route.malformed


def test_a_relay_that_forges_joins_adds_nobody_and_honest_joins_still_work(tmp_path: Path) -> None:
    async def body() -> None:
        hostile = ForgingRelay(tmp_path / "hostile-relay")
        honest = RelayServer(tmp_path / "honest-relay", RelayLimits())
        host, port = await hostile.async_start("127.0.0.1", 0)
        bad_url = f"hubbub-relay://{host}:{port}"
        host, port = await honest.async_start("127.0.0.1", 0)
        good_url = f"hubbub-relay://{host}:{port}"
        forger = asyncio.create_task(forge_forever(hostile))
        alice, carol, dave = (service(tmp_path, n) for n in ("alice", "carol", "dave"))
        try:
            room = alice.create_room("Club")
            set_room_relays(room, [bad_url])
            for svc in (alice, carol, dave):
                await svc.async_start()
            # Carol joins through the relay while it is honest; it records every sealed frame of her join.
            croom = await carol.async_join(alice.create_invite(room).link(), 20)
            carol_key, dave_key = carol.node.profile.public_key, dave.node.profile.public_key
            await until(lambda: members(croom) == members(room) and carol_key in members(room), 15, "Carol's join to sync")
            recorded = len(hostile.recorded)
            assert recorded > 0, "the relay saw Carol's join"
            before = members(room)

            # Hostile: Dave's join through it fails, and nothing changes anywhere.
            hostile.hostile = True
            invite = alice.create_invite(room)
            link = invite.link()
            malformed_before = malformed(alice, bad_url) + malformed(carol, bad_url)
            with pytest.raises(BadInvite, match="answered"):
                await dave.async_join(link, 10)
            await asyncio.sleep(1.0)  # what the relay still forges meanwhile changes nothing either
            assert members(room) == before and members(croom) == before, "nobody was added through the relay"
            assert dave_key not in members(room)
            assert hostile.injected > recorded, "the relay forged frames"
            assert malformed(alice, bad_url) + malformed(carol, bad_url) + malformed(dave, bad_url) > malformed_before, \
                "the forgeries reached the nodes and were refused"
            state = room.log.state()
            assert not state.invites[invite.invite_id].exhausted, "Dave's invite is still unspent"
            assert dave.node.room_list() == [] and not dave.node.has_room(room.id), "the failed join left no room"
            assert dave.joins.joins == {} and dave.joins.join_secrets() == [], "nor a join in progress"
            assert dave.peer.peers() == [], "nor a session"
            assert dave_key not in alice.peer.peers() and dave_key not in carol.peer.peers()
            assert set(alice.peer.peers()) <= {carol_key} and set(carol.peer.peers()) <= {alice.node.profile.public_key}

            # An honest relay beside the hostile one: a link naming both gets Dave in, while the hostile one forges on.
            set_room_relays(room, [bad_url, good_url])
            await until(lambda: good_url in alice.relays.links, 10, "Alice to use the honest relay")
            second = alice.create_invite(room)
            assert second.relays == (bad_url, good_url)
            forged, hostile.budget = hostile.injected, BUDGET
            droom = await dave.async_join(second.link(), 25)
            after = before | {dave_key}
            await until(lambda: members(room) == members(croom) == members(droom) == after, 20,
                        "Dave in the room on every member node")
            assert room.log.state().invites[second.invite_id].exhausted, "the honest join spent its invite"
            assert not room.log.state().invites[invite.invite_id].exhausted, "and not the one tried through the forger"
            assert hostile.hostile and hostile.injected > forged, "the hostile relay was forging all along"
        finally:
            forger.cancel()
            for svc in (alice, carol, dave):
                await svc.async_stop()
                svc.node.close()
            await hostile.async_stop()
            await honest.async_stop()

    asyncio.run(body())
