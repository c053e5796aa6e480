"""Which rendezvous tokens a node subscribes on a relay (app/relay/part.py): the rooms' current keys, their usable
invites, the previous keys of this hour; a token no longer wanted lingers for a minute and is then let go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from app.node import Node
from app.profile import open_profile
from app.relay.cursors import RelayCursors
from app.relay.keys import Rendezvous
from app.relay.mailbox import MailboxRoute
from app.relay.part import LINGER, MAX_TOKENS, RelayLink, Relays
from app.service import NodeService
from p2p.relay.client import RelayClient
from p2p.relay.route import RelayRoute

URL = "hubbub-relay://relay.example:7447"
HOUR = 490_000


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    n = Node(open_profile(tmp_path / "alice", display_name="alice"))
    yield n
    n.close()


def relays_of(node: Node) -> Relays:
    """The part of a NodeService that is built, never started (nothing listens)."""
    return NodeService(node, bind_host="127.0.0.1", mdns=False).relays


def test_the_current_key_then_the_invites_then_the_previous_key(node: Node) -> None:
    room = node.create_room("Club")
    relays = relays_of(node)
    first = room.log.current_key()
    assert first is not None
    assert relays.tokens_for(URL, {room.id}, HOUR) == Rendezvous.for_room_key(first).tokens(HOUR)
    _iid, secret, _exp = room.create_invite(3600)
    tokens = relays.tokens_for(URL, {room.id}, HOUR)
    assert set(Rendezvous.for_invite(secret).tokens(HOUR)) <= set(tokens) and len(tokens) == 6
    carol = bytes(SigningKey.generate().verify_key)
    room.add_member(carol, "member", "carol")  # the invite was not used by her: it stays usable
    room.remove_member(carol)
    second = room.log.current_key()
    assert second is not None and second != first
    tokens = relays.tokens_for(URL, {room.id}, HOUR)
    assert list(tokens)[:3] == list(Rendezvous.for_room_key(second).tokens(HOUR))
    old = Rendezvous.for_room_key(first)
    assert tokens[old.token(HOUR)] == old.seal_key and old.token(HOUR + 1) not in tokens  # this hour's only
    assert relays.tokens_for(URL, set(), HOUR) == {}  # a relay no room uses meets nobody


def test_at_most_max_tokens_with_the_current_keys_first(node: Node) -> None:
    rooms = [node.create_room(f"Room {i}") for i in range(MAX_TOKENS // 3 + 2)]
    tokens = relays_of(node).tokens_for(URL, {r.id for r in rooms}, HOUR)
    assert len(tokens) == MAX_TOKENS
    for room in sorted(rooms, key=lambda r: r.id)[: MAX_TOKENS // 3]:
        key = room.log.current_key()
        assert key is not None and set(Rendezvous.for_room_key(key).tokens(HOUR)) <= set(tokens)


def test_a_token_no_longer_wanted_lingers_then_goes(tmp_path: Path) -> None:
    client = RelayClient(URL)  # never started: subscribing only records the set
    cursors = RelayCursors(tmp_path)
    link = RelayLink(client, RelayRoute(client), MailboxRoute(client, cursors))
    a, b = Rendezvous.for_room_key(bytes(32)), Rendezvous.for_room_key(bytes([1]) * 32)
    link.subscribe(a.tokens(HOUR), now=0.0)
    assert link.subscribed == a.tokens(HOUR) and link.tokens == 3
    link.subscribe(b.tokens(HOUR), now=1.0)
    assert link.subscribed == {**b.tokens(HOUR), **a.tokens(HOUR)} and link.tokens == 3
    link.subscribe(b.tokens(HOUR), now=1.0 + LINGER + 0.5)
    assert link.subscribed == b.tokens(HOUR)
    cursors.close()
