"""Grants: a room's keys sealed to one peer, made from a room and checked before anything is kept.

A grant to a joiner carries the room's signed genesis entry: the joiner keeps it only if its genesis
key opens that entry and the entry's hash is the room id, so a member who answers first with bogus
keys is found out at once. Keys for later rotations are checked against their rotation's commitment
when the rotation arrives (`Room.offer_keys`).
"""

from __future__ import annotations

from nacl.signing import SigningKey

from crdt.cipher import open_sealed, seal_to_member
from crdt.entry import Entry, decode_one
from crdt.errors import DecodeError
from crdt.room import RoomLog

from .room import Room
from .wire import Grant


def make_grant(room: Room, peer: bytes, *, direct: bool = False, only: set[bytes] | None = None) -> Grant | None:
    """The room's keys (or those of the rotations in `only`) sealed to `peer`, with the genesis to check them by."""
    sealed = {r: seal_to_member(peer, k) for r, k in room.log.keys.items() if only is None or r in only}
    if not sealed:
        return None
    genesis = b""
    if only is None:
        first = room.profile.store.author_entries(room.id, room.log.state().owner, 0, 1)
        genesis = first[0].encode() if first else b""
    return Grant(room.name, sealed, room=room.id if direct else None, direct=direct, genesis=genesis)


def open_grant_keys(identity: SigningKey, grant: Grant) -> dict[bytes, bytes] | None:
    """The keys of a grant, or None when any of them is not sealed to `identity`."""
    keys = {}
    for rotation, sealed in grant.keys.items():
        try:
            keys[rotation] = open_sealed(identity, sealed)
        except DecodeError:
            return None
    return keys


def check_grant(identity: SigningKey, room_id: bytes, grant: Grant) -> tuple[dict[bytes, bytes], Entry] | str:
    """For a room we do not hold: the keys and the checked genesis of a grant, or why it is refused (a sentence)."""
    keys = open_grant_keys(identity, grant)
    if keys is None:
        return "sent a grant whose keys are not for us"
    if room_id not in keys or not grant.genesis:
        return "sent a grant without the room's genesis"
    try:
        genesis = decode_one(grant.genesis)
    except DecodeError:
        return "sent a grant with a damaged genesis"
    probe = RoomLog(room_id, {room_id: keys[room_id]})
    outcome = probe.ingest([genesis])
    if not outcome.accepted or outcome.void or not probe.state().owner:
        return "sent a grant whose keys do not open the room it names"
    return keys, genesis
