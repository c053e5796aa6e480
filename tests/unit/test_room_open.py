"""A room opened from its store reads its authors' older entry hashes only when something needs them, and then
behaves as the room that wrote them: duplicates told by hash, a second entry at an old place caught as a fork."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.profile import open_profile
from app.room import Room
from crdt.chain import Chain
from crdt.room import KIND_YJS
from crdt.schema import client_id, short_id
from crdt.yjs_update import encode_insert_update
from tests.helpers import craft_entry


def _stored_room(tmp_path: Path, posts: int) -> tuple[bytes, bytes, list[bytes]]:
    """A profile holding a room with `posts` messages of ours; returns (room id, our key, our chain)."""
    profile = open_profile(tmp_path / "p", display_name="me")
    try:
        room = Room.create(profile, "lazy chains")
        for i in range(posts):
            room.post("general", f"m{i}")
        me = profile.public_key
        return room.id, me, [room.log.chains[me][s] for s in range(room.log.head(me) + 1)]
    finally:
        profile.close()


@contextmanager
def _reopened(tmp_path: Path, room_id: bytes) -> Iterator[Room]:
    profile = open_profile(tmp_path / "p")
    try:
        yield Room.open(profile, room_id)
    finally:
        profile.close()


def test_an_opened_room_reads_older_hashes_on_first_use(tmp_path: Path) -> None:
    room_id, me, stored = _stored_room(tmp_path, 30)
    with _reopened(tmp_path, room_id) as opened:
        chain = opened.log.chains[me]
        assert len(chain) == len(stored) and opened.log.head(me) == len(stored) - 1
        assert chain.hashes[0] is None, "opening read every hash of the chain"
        assert chain[-1] == stored[-1] and opened.log.hash_at(me, len(stored) - 1) == stored[-1]
        assert opened.log.hash_at(me, 3) == stored[3]  # an older one: the stored part is read now
        assert list(chain) == stored and chain.hashes[0] == stored[0]
        again = opened.profile.store.author_entries(room_id, me, 0, 10)
        result = opened.log.ingest(again)
        assert result.duplicates == len(again) and not result.rejected and not result.equivocations
        opened.post("general", "after opening")
        assert chain[len(stored) - 1] == stored[-1] and len(chain) == len(stored) + 1


def test_a_second_entry_at_an_old_place_of_an_opened_room_is_a_fork(tmp_path: Path) -> None:
    room_id, me, stored = _stored_room(tmp_path, 12)
    with _reopened(tmp_path, room_id) as opened:
        assert opened.log.chains[me].hashes[5] is None
        seq = 5
        body = encode_insert_update(client_id(short_id(me), seq), "m", short_id(me) + str(seq), {"c": "general", "t": "other", "ts": 1.0})
        forged = craft_entry(opened.log, opened.profile.identity, KIND_YJS, body, seq=seq, prev=stored[seq - 1])
        assert forged.hash != stored[seq]
        result = opened.log.ingest([forged])
        assert [(q.author, q.seq, q.first_hash) for q in result.equivocations] == [(me, seq, stored[seq])]


def test_a_chain_whose_stored_part_does_not_match_says_so() -> None:
    hashes = [bytes([i]) * 32 for i in range(4)]
    lazy = Chain(stored=4, last=hashes[-1], loader=lambda count: hashes[:count])
    assert len(lazy) == 4 and lazy[-1] == hashes[-1] and lazy[1:3] == hashes[1:3] and lazy == hashes
    lazy.append(b"\x09" * 32)
    assert lazy[4] == b"\x09" * 32 and len(lazy) == 5
    broken = Chain(stored=4, last=hashes[-1], loader=lambda count: hashes[: count - 1])
    with pytest.raises(RuntimeError):
        broken[0]
    eager = Chain(hashes)
    assert eager == hashes and eager[2] == hashes[2] and bool(Chain()) is False
