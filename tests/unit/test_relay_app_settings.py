"""Relays as room state and profile settings, invites that carry them (link version 2), and the relay CLI's parsing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from app.cli_args import build_parser, relay_serve_argv
from app.errors import BadInvite, HubbubError
from app.invite import MAX_LINK_RELAYS, Invite, parse_invite
from app.node import Node
from app.relay.settings import (canonical, join_relays, profile_relays, relays_for, room_relays, set_profile_relays,
                                set_room_relays)
from tests.relay_app_helpers import club as club_of

A, B, C = "hubbub-relay://a.example:7447", "hubbub-relay://b.example:7447", "hubbub-relay+tls://c.example"


@pytest.fixture
def club(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Alice (admin) and Carol (member) holding the same room, each in a real profile."""
    alice, carol = club_of(tmp_path, "alice", "carol")
    yield alice, carol
    alice.close()
    carol.close()


def _share(src: Node, dst: Node, tmp: Path) -> None:
    src.export(src.find_room("Club"), "log", tmp / "again.log")
    dst.import_log(tmp / "again.log")


def test_only_an_admin_sets_the_rooms_relays_and_every_member_reads_them(club: tuple[Node, Node], tmp_path: Path) -> None:
    alice, carol = club
    a_room, c_room = alice.find_room("Club"), carol.find_room("Club")
    set_room_relays(a_room, [A, A, C])
    assert room_relays(a_room) == [A, C]  # canonical, once each, in order
    with pytest.raises(HubbubError, match="admin"):
        set_room_relays(c_room, [B])
    _share(alice, carol, tmp_path)
    assert room_relays(carol.find_room("Club")) == [A, C]
    with pytest.raises(HubbubError, match="at most 4"):
        set_room_relays(a_room, [f"hubbub-relay://r{i}.example:1" for i in range(5)])
    with pytest.raises(HubbubError, match=r"\.$"):
        set_room_relays(a_room, ["http://not-a-relay.example"])
    assert room_relays(a_room) == [A, C]  # a refused change changed nothing


def test_the_profile_adds_its_relays_after_the_rooms(club: tuple[Node, Node]) -> None:
    alice, _ = club
    room = alice.find_room("Club")
    set_room_relays(room, [A])
    set_profile_relays(alice.profile, [B, A])
    assert profile_relays(alice.profile) == [B, A]
    assert relays_for(room, alice.profile) == [A, B]
    alice.profile.settings["relays"] = [B, "junk", 7]  # a hand-edited settings file: what reads is kept
    assert profile_relays(alice.profile) == [B]
    with pytest.raises(HubbubError, match="at most 8"):
        set_profile_relays(alice.profile, [f"hubbub-relay://r{i}.example:1" for i in range(9)])


def test_a_join_uses_the_invites_relays_then_the_profiles_once_each(club: tuple[Node, Node]) -> None:
    alice, _ = club
    set_profile_relays(alice.profile, [B, A])
    assert join_relays((A, C), alice.profile) == [A, C, B]
    assert join_relays((), alice.profile) == [B, A]  # a link with no relay: the profile's own
    set_profile_relays(alice.profile, [])
    assert join_relays((C,), alice.profile) == [C]


def test_an_invite_carries_the_relays_and_reads_back() -> None:
    inviter = bytes(SigningKey.generate().verify_key)
    room_id, secret = secrets.token_bytes(32), secrets.token_bytes(32)
    plain = Invite(room_id, "inv1", secret, 2_000_000_000_000, "Club", inviter)
    relayed = Invite(room_id, "inv1", secret, 2_000_000_000_000, "Club", inviter, (A, C))
    assert parse_invite(plain.link()) == plain and parse_invite(relayed.link()) == relayed
    assert len(relayed.link()) > len(plain.link())
    many = Invite(room_id, "inv1", secret, 2_000_000_000_000, "Club", inviter, (A, B, C, "hubbub-relay://d.example:1"))
    assert parse_invite(many.link()).relays == (A, B, C)[:MAX_LINK_RELAYS]


def test_a_node_invite_names_the_rooms_relays(club: tuple[Node, Node]) -> None:
    alice, _ = club
    room = alice.find_room("Club")
    assert alice.invite(room).relays == ()
    set_room_relays(room, [A])
    set_profile_relays(alice.profile, [B])
    assert parse_invite(alice.invite(room).link()).relays == (A, B)


@pytest.mark.parametrize("relay", ["http://x.example", "hubbub-relay://", "HUBBUB-RELAY://A.EXAMPLE:7447", "x" * 40])
def test_an_invite_with_a_relay_that_does_not_read_is_one_sentence(relay: str) -> None:
    inviter = bytes(SigningKey.generate().verify_key)
    link = Invite(bytes(32), "inv1", bytes(32), 2_000_000_000_000, "Club", inviter, (relay,)).link()
    with pytest.raises(BadInvite) as err:
        parse_invite(link)
    assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_a_canonical_address_and_a_sentence_for_junk() -> None:
    assert canonical(A) == A
    with pytest.raises(HubbubError) as err:
        canonical("ftp://nope")
    assert str(err.value).endswith(".") and not str(err.value).endswith("..")


def test_the_relay_commands_parse() -> None:
    p = build_parser()
    args = p.parse_args(["relay", "add", A, "--room", "Club"])
    assert (args.command, args.relay_command, args.url, args.room) == ("relay", "add", A, "Club")
    args = p.parse_args(["relay", "remove", A])
    assert (args.relay_command, args.url, args.room) == ("remove", A, None)
    assert p.parse_args(["relay", "list", "--json"]).json is True
    assert p.parse_args(["peers", "--json"]).command == "peers"
    with pytest.raises(SystemExit):
        p.parse_args(["relay"])
    # `relay serve` never reaches this parser: it is dispatched first, with the global -v passed on.
    assert relay_serve_argv(["-v", "relay", "serve", "--listen", "127.0.0.1:0"]) == ["-v", "--listen", "127.0.0.1:0"]
    assert relay_serve_argv(["relay", "add", A]) is None
