"""The sans-IO sync core over in-memory links that drop, duplicate and reorder frames."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from crdt.schema import EDITS, MESSAGES, REACTIONS
from crdt.sync import (
    WantReceived,
    EntriesReceived,
    FrameRejected,
    HeadsReceived,
    MemorySource,
    SyncProtocol,
    decode_frame,
    encode_heads,
    frames_for,
)
from tests.helpers import LossyLink, Replica, doc_state, party, visible


def _converged(*replicas: Replica) -> None:
    first = replicas[0]
    for r in replicas[1:]:
        assert r.log.heads() == first.log.heads(), f"{r.name} holds other heads than {first.name}"
        assert doc_state(r.log.doc) == doc_state(first.log.doc)
        assert visible(r.log) == visible(first.log)
    assert visible(first.log), "nothing to compare"


def _chatter(replicas: list[Replica], rng: random.Random, n: int) -> None:
    """Each replica writes some messages, replies, reactions and edits of its own."""
    for i in range(n):
        r = replicas[i % len(replicas)]
        mid = r.post(f"{r.name} #{i}", ts=1000.0 + i)
        if i % 3 == 0:
            r.write(REACTIONS, {"m": mid, "e": "👍"})
        if i % 4 == 0:
            r.write(EDITS, {"m": mid, "t": f"{r.name} #{i} (edited)", "ts": 5000.0 + i})


def test_fresh_replica_catches_up() -> None:
    a, b = party(["member"])
    _chatter([a], random.Random(1), 30)
    assert len(b.log.maps[MESSAGES]) == 0
    link = LossyLink(a, b, random.Random(0))
    link.settle()
    _converged(a, b)
    assert len(visible(b.log)) == 30


@pytest.mark.parametrize("seed", range(4))
def test_lossy_duplicating_reordering_link_converges(seed: int) -> None:
    rng = random.Random(seed)
    a, b = party(["member"])
    _chatter([a, b], rng, 40)
    assert visible(a.log) != visible(b.log)
    link = LossyLink(a, b, rng, loss=0.35, dup=0.3, reorder=True, max_frame=1500)
    link.settle(rounds=300)
    _converged(a, b)
    assert len(visible(a.log)) == 40
    # The link really did lose and duplicate entry frames.
    assert link.dropped > 2 and link.duplicated > 2


def test_writes_during_sync_with_loss_converge() -> None:
    rng = random.Random(7)
    a, b = party(["moderator"])
    link = LossyLink(a, b, rng, loss=0.3, dup=0.2, reorder=True, max_frame=2000)
    for step in range(30):
        (a if step % 2 else b).post(f"live {step}", ts=2000.0 + step)
        link.round(reopen=step % 5 == 0)
    link.settle(rounds=300)
    _converged(a, b)
    assert len(visible(a.log)) == 30


@pytest.mark.parametrize("max_frame", [700, 1200, 4096])
def test_frames_never_exceed_the_cap(max_frame: int) -> None:
    a, b = party(["member"])
    _chatter([a], random.Random(2), 25)
    link = LossyLink(a, b, random.Random(3), max_frame=max_frame)
    link.settle()
    _converged(a, b)
    assert link.frames_seen and max(link.frames_seen) <= max_frame
    # several entries did share frames (batching), and several frames were needed (capping)
    entries = sum(len(c) for c in a.source.by_author.values())
    entry_frames = [n for n in link.frames_seen if n > 200]
    assert 1 < len(entry_frames) < entries


def test_frames_for_packs_under_the_cap() -> None:
    a, = party([])
    _chatter([a], random.Random(4), 20)
    entries = [e for chain in a.source.by_author.values() for e in chain]
    for cap in (600, 1000, 5000):
        frames = frames_for(entries, cap)
        assert all(len(f) <= cap for f in frames)
        got = [e for f in frames for e in decode_frame(f, cap).entries]  # type: ignore[union-attr]
        assert [e.hash for e in got] == [e.hash for e in entries]


def test_transitive_spread_a_b_c() -> None:
    a, b, c = party(["member", "member"])
    a.post("from a", ts=1.0)
    c.post("from c", ts=2.0)
    ab = LossyLink(a, b, random.Random(5), loss=0.2, dup=0.1, reorder=True)
    bc = LossyLink(b, c, random.Random(6), loss=0.2, dup=0.1, reorder=True)
    for _ in range(60):
        ab.round(reopen=True)
        bc.round(reopen=True)
        if a.log.heads() == b.log.heads() == c.log.heads():
            break
    _converged(a, b, c)
    texts = [row[2] for row in visible(a.log)]
    assert texts == ["from a", "from c"]


def test_live_announce_pushes_new_entries() -> None:
    a, b = party(["member"])
    link = LossyLink(a, b, random.Random(0))
    link.round(reopen=True)
    mid = a.post("pushed")
    assert a.identity is not None
    new = [a.source.by_author[bytes(a.identity.verify_key)][-1]]
    link.pa.announce(new)
    frames = link.pa.data_to_send()
    assert len(frames) == 1
    for f in frames:
        event = link.pb.receive(f)
        assert isinstance(event, EntriesReceived)
        b.ingest(event.entries)
    assert mid in b.log.maps[MESSAGES]
    # Announcing it again sends nothing: the protocol knows the peer has it.
    link.pa.announce(new)
    assert link.pa.data_to_send() == []


def test_malformed_frames_are_events_not_exceptions() -> None:
    a, b = party(["member"])
    a.post("x")
    proto = SyncProtocol(b.source)
    for junk in (b"", b"\x09\x01", b"\x01\x07\x00", encode_heads({b"a" * 32: 1})[:-1], b"\x01\x02\x01\xff\xff\xff\xff\x0f"):
        assert isinstance(proto.receive(junk), FrameRejected)
    assert proto.bad_frames == 5
    # after the junk, the conversation still works
    link = LossyLink(a, b, random.Random(0))
    link.pb = proto
    link.settle()
    _converged(a, b)


def test_heads_frame_round_trip_and_backlog() -> None:
    heads = {bytes([i]) * 32: i * 1000 for i in range(1, 6)}
    event = decode_frame(encode_heads(heads))
    assert isinstance(event, HeadsReceived) and event.heads == heads
    a, = party([])
    proto = SyncProtocol(a.source)
    assert not proto.has_data()
    proto.receive(encode_heads({}))
    assert proto.has_data(), "a peer with nothing must be sent everything"
    sent = [e for f in proto.data_to_send() for e in decode_frame(f).entries]  # type: ignore[union-attr]
    assert sorted((e.author, e.seq) for e in sent) == sorted((e.author, e.seq) for c in a.source.by_author.values() for e in c)
    # a peer that already has everything is sent nothing
    proto2 = SyncProtocol(a.source)
    heads = a.source.heads()
    proto2.receive(encode_heads(heads, {au: a.source.hash_at(au, s)[:16] for au, s in heads.items()}))  # type: ignore[index]
    assert proto2.data_to_send() == []
    # the same heads with a different hash for one author: a fork, so the protocol asks for that entry
    proto3 = SyncProtocol(a.source)
    forked = next(iter(heads))
    proto3.receive(encode_heads(heads, {au: (b"\xff" * 16 if au == forked else a.source.hash_at(au, s)[:16])  # type: ignore[index]
                                        for au, s in heads.items()}))
    frames = proto3.data_to_send()
    assert [decode_frame(f) for f in frames] == [WantReceived([(forked, heads[forked], 1)])]
    assert proto3.forks_suspected == [(forked, heads[forked])]


def test_invalid_entries_from_a_peer_are_not_kept_or_served() -> None:
    a, b, c = party(["member", "member"])
    # a hostile b serves an entry by an outsider it fabricated
    from tests.helpers import value_entry

    outsider = SigningKey.generate()
    bogus = value_entry(b.log, outsider, MESSAGES, {"c": "general", "t": "spam", "ts": 1.0})
    b.source.by_author[bogus.author] = [bogus]
    before = doc_state(c.log.doc)
    link = LossyLink(b, c, random.Random(0))
    link.round(reopen=True)
    assert any("not a member" in why for _, why in c.rejected)
    assert doc_state(c.log.doc) == before
    assert bogus.author not in c.source.by_author
    assert bogus.author not in c.log.heads()


def test_memory_source_keeps_only_contiguous_chains() -> None:
    a, = party([])
    a.post("1")
    a.post("2")
    chain = next(iter(a.source.by_author.values()))
    fresh = MemorySource()
    fresh.add([chain[2], chain[0]])
    assert fresh.heads() == {chain[0].author: 0}
    fresh.add(chain)
    assert fresh.heads() == {chain[0].author: len(chain) - 1}
    assert fresh.entries(chain[0].author, 1, 2) == chain[1:3]


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=30), slack=st.integers(24, 4000))
def test_frames_for_respects_any_cap_an_entry_fits_under(sizes: list[int], slack: int) -> None:
    from crdt.entry import NONCE_SIZE, sign_entry

    key = SigningKey(bytes([7]) * 32)
    entries = [sign_entry(key, room_id=b"r" * 32, seq=i, prev=b"p" * 32, epoch=0, deps=(), nonce=b"n" * NONCE_SIZE,
                          ciphertext=b"c" * n) for i, n in enumerate(sizes)]
    cap = max(len(e.encode()) for e in entries) + slack
    frames = frames_for(entries, cap)
    assert all(len(f) <= cap for f in frames)
    got = []
    for f in frames:
        event = decode_frame(f, cap)
        assert isinstance(event, EntriesReceived)
        got += event.entries
    assert got == entries
