"""The sans-IO bounds of a hostile LAN: token buckets, admission lanes, the hint table, tickets, beacons."""

from __future__ import annotations

import os

import pytest

from p2p.admission import Admission, Lane
from p2p.budget import BucketTable, TokenBucket
from p2p.config import Limits
from p2p.hints import HintTable
from p2p.room_tokens import BeaconBook, TicketBook, admission_transcript, make_beacons, make_tickets
from p2p.rooms import RoomSecret
from p2p.routes import Address, Hint

ROOM = RoomSecret(b"r" * 32, b"room secret", "room")
OTHER = RoomSecret(b"o" * 32, b"other secret", "room")
PUBLIC = RoomSecret(b"p" * 32, b"anyone can derive this", "public", open=True)


def test_token_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) and not bucket.take(0.5)
    assert bucket.full(100.0)
    with pytest.raises(ValueError):
        TokenBucket(0, 1, 0.0)


def test_bucket_table_forgets_the_least_recently_used_key_first() -> None:
    table: BucketTable[str] = BucketTable(rate=1.0, burst=1, max_keys=2)
    assert table.take("a", 0.0) and table.take("b", 0.0) and not table.take("a", 0.0)
    assert table.take("c", 0.0) and len(table) == 2  # "b" was used least recently: forgotten
    assert table.take("b", 0.0)  # a forgotten key starts full again (why the cap must be large)


def test_tickets_prove_exactly_the_shared_secrets_and_are_bound_to_the_conversation() -> None:
    nonce, dialer, listener = os.urandom(32), os.urandom(32), os.urandom(32)
    transcript = admission_transcript(nonce, dialer, listener)
    tickets = make_tickets([ROOM, PUBLIC, ROOM], transcript)
    assert len(tickets) == 8 * 32  # two distinct secrets, padded to eight
    book = TicketBook([ROOM, OTHER])
    assert book.proven(tickets, transcript) == [ROOM]
    assert book.proven(tickets, admission_transcript(os.urandom(32), dialer, listener)) == []
    assert book.proven(tickets, admission_transcript(nonce, listener, dialer)) == []
    assert TicketBook().proven(tickets, transcript) == []
    with pytest.raises(ValueError):
        book.proven(tickets[:-1], transcript)


def test_beacons_are_recognised_only_with_the_secret_and_only_for_their_node_id() -> None:
    beacons = make_beacons([ROOM], "a1b2")
    assert len(beacons) == 4 * 8
    assert BeaconBook([OTHER, ROOM]).matches(beacons, "a1b2")
    assert not BeaconBook([OTHER]).matches(beacons, "a1b2")
    assert not BeaconBook([ROOM]).matches(beacons, "a1b3")  # copied to another node id
    assert not BeaconBook([ROOM]).matches(b"junk", "a1b2")
    assert len(make_beacons([], "a1b2")) == 32  # no rooms looks like some rooms


def test_members_are_capped_but_never_rate_limited_strangers_get_a_small_budget() -> None:
    limits = Limits(max_half_open_members=3, max_half_open_strangers=2, half_open_per_source=10,
                    stranger_rate=1.0, stranger_burst=3, stranger_rate_per_source=100.0,
                    max_stranger_sessions=2)
    adm = Admission(limits, 0.0)
    members = [adm.admit(Lane.MEMBER, "10.0.0.1", os.urandom(32), 0.0) for _ in range(4)]
    assert [m is not None for m in members] == [True, True, True, False]
    first = members[0]
    assert first is not None
    adm.authenticated(first)  # no longer half-open: room for one more
    assert adm.admit(Lane.MEMBER, "10.0.0.1", os.urandom(32), 0.0) is not None

    s1 = adm.admit(Lane.STRANGER, "10.0.0.9", os.urandom(32), 0.0)
    s2 = adm.admit(Lane.STRANGER, "10.0.0.9", os.urandom(32), 0.0)
    assert s1 is not None and s2 is not None
    assert adm.admit(Lane.STRANGER, "10.0.0.8", os.urandom(32), 0.0) is None  # two half-open at most
    adm.authenticated(s1)
    adm.authenticated(s2)
    assert adm.stats()["live_strangers"] == 2
    assert adm.admit(Lane.STRANGER, "10.0.0.8", os.urandom(32), 10.0) is None  # live strangers capped
    adm.release(s1)
    adm.release(s1)  # idempotent
    assert adm.admit(Lane.STRANGER, "10.0.0.8", os.urandom(32), 10.0) is not None
    assert adm.stats()["refused_sessions"] == 3


def test_stranger_budget_is_per_source_and_global_and_keys_get_two_half_open() -> None:
    limits = Limits(stranger_rate=1.0, stranger_burst=4, stranger_rate_per_source=0.5,
                    max_half_open_strangers=100)
    adm = Admission(limits, 0.0)
    one_source = [adm.admit(Lane.STRANGER, "10.0.0.9", os.urandom(32), 0.0) for _ in range(4)]
    assert [s is not None for s in one_source] == [True, True, True, False]  # burst 3 per source
    assert adm.admit(Lane.STRANGER, "10.0.0.8", os.urandom(32), 0.0) is not None  # the global burst's fourth
    assert adm.admit(Lane.STRANGER, "10.0.0.7", os.urandom(32), 0.0) is None  # global bucket empty
    key = os.urandom(32)
    assert adm.admit(Lane.MEMBER, "10.0.0.1", key, 0.0) and adm.admit(Lane.MEMBER, "10.0.0.1", key, 0.0)
    assert adm.admit(Lane.MEMBER, "10.0.0.1", key, 0.0) is None


def test_conversations_are_capped_per_source_in_all_and_by_rate() -> None:
    adm = Admission(Limits(max_conversations=3, conversations_per_source=2, conversation_rate_per_source=1.0), 0.0)
    assert adm.open_conversation("a", 0.0) and adm.open_conversation("a", 0.0)
    assert not adm.open_conversation("a", 0.0)
    assert adm.open_conversation("b", 0.0) and not adm.open_conversation("c", 0.0)
    adm.close_conversation("a")
    adm.close_conversation("a")
    assert adm.open_conversation("a", 0.0) is False  # the rate: a burst of two per second, spent
    assert adm.open_conversation("a", 1.0)


def hint(node: str, host: str, port: int = 1, beacons: bytes = b"") -> Hint:
    return Hint("mdns", node, Address("lan", host, port), beacons=beacons)


def test_hint_table_caps_per_host_per_node_and_in_all_evicting_the_least_recently_seen() -> None:
    table = HintTable(Limits(max_hints=6, max_hints_per_host=3, max_candidates=2))
    for i in range(100):
        table.seen(hint(f"{i:04x}", "10.0.0.66", i))  # one host announcing a hundred names
    assert len(table) == 3
    assert {h.node_id for h in table.hints()} == {"0061", "0062", "0063"}
    for i in range(5):
        table.seen(hint("beef", f"10.0.1.{i}"))  # one node id at five addresses
    assert table.candidates("mdns", "beef") == [Address("lan", "10.0.1.4", 1), Address("lan", "10.0.1.3", 1)]
    for i in range(10):
        table.seen(hint(f"c{i:03x}", f"10.0.2.{i}"))
    assert len(table) == 6 and table.evicted > 0


def test_pinned_and_room_mate_hints_outlast_a_flood_of_others() -> None:
    table = HintTable(Limits(max_hints=4, max_hints_per_host=4, max_candidates=4))
    table.set_secrets([ROOM])
    table.seen(hint("aaaa", "10.0.0.1"))
    table.pin("mdns", "aaaa", Address("lan", "10.0.0.1", 1))
    table.seen(hint("bbbb", "10.0.0.2", beacons=make_beacons([ROOM], "bbbb")))
    assert table.is_room_mate("mdns", "bbbb") and not table.is_room_mate("mdns", "aaaa")
    for i in range(1000):
        table.seen(hint(f"f{i:04x}", f"10.1.{i // 250}.{i % 250}"))
    kept = {h.node_id for h in table.hints()}
    assert {"aaaa", "bbbb"} <= kept and len(table) == 4
    assert table.node_keys()[:2] == [("mdns", "bbbb"), ("mdns", "aaaa")]  # known first, newest first
    table.set_secrets([])
    assert not table.is_room_mate("mdns", "bbbb")


def test_a_goodbye_drops_only_the_addresses_that_stopped_answering_never_a_pinned_one() -> None:
    table = HintTable(Limits())
    real, spoof = Address("lan", "10.0.0.1", 1), Address("lan", "10.0.0.66", 1)
    table.seen(hint("aaaa", "10.0.0.1"))
    table.seen(hint("aaaa", "10.0.0.66"))
    table.pin("mdns", "aaaa", real)
    assert table.candidates("mdns", "aaaa") == [real, spoof]  # the working one first
    assert table.lost("mdns", "aaaa") == [spoof]
    assert table.candidates("mdns", "aaaa") == [real]
    table.seen(hint("aaaa", "10.0.0.66"))
    assert table.lost("mdns", "aaaa", keep=[spoof]) == [] and len(table) == 2
    table.remove("mdns", "aaaa", real)  # it answered with another key
    assert table.candidates("mdns", "aaaa") == [spoof]


def test_public_room_announcements_verify_and_cannot_be_altered_or_forged() -> None:
    import nacl.signing

    from p2p.public_rooms import parse_room, room_properties
    from p2p.rooms import PublicRoom

    owner = nacl.signing.SigningKey.generate()
    room = PublicRoom(b"\x11" * 32, "lobby", ("games", "lan"), 12, bytes(owner.verify_key), "Alice")
    props = {k.encode(): v.encode() for k, v in room_properties(owner, room, "00ab").items()}
    seen = parse_room(props, "10.0.0.1", 4000)
    assert seen is not None
    assert (seen.name, seen.tags, seen.member_count, seen.owner_name) == ("lobby", ("games", "lan"), 12, "Alice")
    assert seen.owner_key == seen.announcer_key == bytes(owner.verify_key) and seen.node_id == "00ab"
    for field, value in ((b"members", b"9999"), (b"oname", b"Mallory"), (b"rid", b"22" * 32),
                         (b"key", bytes(nacl.signing.SigningKey.generate().verify_key).hex().encode()),
                         (b"sig", b"00" * 64), (b"v", b"1"), (b"members", b"-1")):
        assert parse_room({**props, field: value}, "10.0.0.1", 4000) is None, field
    assert parse_room({k: v for k, v in props.items() if k != b"sig"}, "10.0.0.1", 4000) is None
    assert parse_room({b"v": b"2", b"sig": b"\xff" * 300}, "h", 1) is None
