"""Private room matching: shared rooms match with both labels, nothing else is revealed."""

from __future__ import annotations

import os

from p2p.frames import TOKEN_ENTRY_SIZE
from p2p.room_tokens import TOKEN_PAD, make_tokens, match_tokens, split_tokens
from p2p.rooms import RoomSecret

TRANSCRIPT = b"transcript:" + os.urandom(32)


def test_shared_room_matches_with_both_labels() -> None:
    alice = [RoomSecret(b"room-1", b"key-1", "room"), RoomSecret(b"room-2", b"key-2", "room")]
    bob = [RoomSecret(b"room-1", b"key-1", "invite:abc"), RoomSecret(b"room-3", b"key-3", "room")]
    from_alice = make_tokens(alice, TRANSCRIPT, 0)
    from_bob = make_tokens(bob, TRANSCRIPT, 1)
    assert match_tokens(from_alice, bob, TRANSCRIPT, 0) == {(b"room-1", "invite:abc", "room")}
    assert match_tokens(from_bob, alice, TRANSCRIPT, 1) == {(b"room-1", "room", "invite:abc")}


def test_room_only_one_side_has_does_not_match() -> None:
    alice = [RoomSecret(b"room-2", b"key-2", "room")]
    bob = [RoomSecret(b"room-2", b"another key", "room")]  # same id, different secret
    assert match_tokens(make_tokens(alice, TRANSCRIPT, 0), bob, TRANSCRIPT, 0) == set()


def test_tokens_are_bound_to_session_and_side() -> None:
    secrets = [RoomSecret(b"r", b"k", "room")]
    tokens = make_tokens(secrets, TRANSCRIPT, 0)
    assert match_tokens(tokens, secrets, TRANSCRIPT + b"x", 0) == set()  # replayed elsewhere
    assert match_tokens(tokens, secrets, TRANSCRIPT, 1) == set()  # reflected back


def test_token_list_is_padded_and_reveals_no_labels_or_ids() -> None:
    secrets = [RoomSecret(b"room-id-visible", b"k%d" % i, "label-visible") for i in range(3)]
    tokens = make_tokens(secrets, TRANSCRIPT, 0)
    assert len(tokens) == TOKEN_PAD * TOKEN_ENTRY_SIZE
    assert len(make_tokens([], TRANSCRIPT, 0)) == TOKEN_PAD * TOKEN_ENTRY_SIZE
    assert b"room-id-visible" not in tokens and b"label-visible" not in tokens
    assert len(split_tokens(tokens)) == TOKEN_PAD


def test_garbage_tokens_match_nothing() -> None:
    secrets = [RoomSecret(b"r", b"k", "room")]
    assert match_tokens(os.urandom(TOKEN_ENTRY_SIZE * 5), secrets, TRANSCRIPT, 0) == set()
