"""Private room matching: keyed tokens that tell two peers which rooms they share, and nothing else.

For each secret it holds, a side sends `token = BLAKE2b(key=K, transcript || side)`, where
`K = BLAKE2b(secret)` and the transcript binds both identity keys, both session nonces and both
DTLS fingerprints. Next to each token goes the side's label for that secret, sealed with a key only
holders of the secret can derive. A token for a secret the other side lacks is indistinguishable
from random; the list is padded with random entries so its length hides the number of rooms.
Tokens are bound to the session, so they cannot be replayed or linked across sessions.

The same keys make **admission tickets**, sent in signaling before any session exists: one per
secret, `BLAKE2b(key=K, admission transcript)`, where the transcript binds the listener's fresh
HELLO nonce and both keys. A listener checks them with one BLAKE2b per secret it holds, which is
how a peer proves a shared room before the listener spends anything on it (docs/p2p.md).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence

import nacl.exceptions
import nacl.secret

from p2p.frames import MAX_TICKETS, TICKET_SIZE, TOKEN_ENTRY_SIZE
from p2p.rooms import RoomSecret

TOKEN_SIZE = 32
LABEL_SIZE = 64
TOKEN_PAD = 8
"""Token lists are padded with random entries up to a multiple of this."""

ADMIT_CONTEXT = b"hubbub-admit-v1\x00"

Match = tuple[bytes, str, str]
"""(room id, my label, their label)."""


def _secret_key(secret: bytes) -> bytes:
    return hashlib.blake2b(secret, digest_size=32, person=b"hubbub-room-key").digest()


def _derive(secret: bytes, transcript: bytes, side: int, purpose: bytes) -> bytes:
    return hashlib.blake2b(
        transcript + bytes((side,)), digest_size=32, key=_secret_key(secret), person=purpose
    ).digest()


def room_token(secret: bytes, transcript: bytes, side: int) -> bytes:
    """The token `side` (0 dialer, 1 listener) sends for `secret` in the session of `transcript`."""
    return _derive(secret, transcript, side, b"hubbub-token")


def _pad_label(label: str) -> bytes:
    raw = label.encode("utf-8")[: LABEL_SIZE - 1]
    return bytes((len(raw),)) + raw + bytes(LABEL_SIZE - 1 - len(raw))


def _unpad_label(padded: bytes) -> str:
    length = padded[0]
    if length > LABEL_SIZE - 1:
        raise ValueError("bad label length")
    return padded[1 : 1 + length].decode("utf-8", errors="replace")


def make_tokens(secrets: Iterable[RoomSecret], transcript: bytes, side: int) -> bytes:
    """The TOKENS field for `side`: one entry per distinct secret, padded, in random order."""
    entries: list[bytes] = []
    seen: set[bytes] = set()
    for item in secrets:
        if item.secret in seen:
            continue
        seen.add(item.secret)
        box = nacl.secret.SecretBox(_derive(item.secret, transcript, side, b"hubbub-label"))
        sealed = bytes(box.encrypt(_pad_label(item.label)))
        entries.append(room_token(item.secret, transcript, side) + sealed)
    while len(entries) % TOKEN_PAD or not entries:
        entries.append(os.urandom(TOKEN_ENTRY_SIZE))
    entries.sort()  # random tokens: sorting shuffles and hides which entries are padding
    return b"".join(entries)


def split_tokens(field: bytes) -> dict[bytes, bytes]:
    """Map token -> sealed label; raises ValueError if the field is not whole entries."""
    if len(field) % TOKEN_ENTRY_SIZE:
        raise ValueError("token field is not a whole number of entries")
    entries = {}
    for offset in range(0, len(field), TOKEN_ENTRY_SIZE):
        entry = field[offset : offset + TOKEN_ENTRY_SIZE]
        entries[entry[:TOKEN_SIZE]] = entry[TOKEN_SIZE:]
    return entries


def match_tokens(
    field: bytes, secrets: Sequence[RoomSecret], transcript: bytes, their_side: int
) -> set[Match]:
    """Rooms shared with the side that sent `field`: (room id, my label, their label) per match."""
    received = split_tokens(field)
    matches: set[Match] = set()
    for item in secrets:
        sealed = received.get(room_token(item.secret, transcript, their_side))
        if sealed is None:
            continue
        box = nacl.secret.SecretBox(_derive(item.secret, transcript, their_side, b"hubbub-label"))
        try:
            their_label = _unpad_label(box.decrypt(sealed))
        except (nacl.exceptions.CryptoError, ValueError):
            continue
        matches.add((item.room_id, item.label, their_label))
    return matches


def admission_transcript(listener_nonce: bytes, dialer_key: bytes, listener_key: bytes) -> bytes:
    """What admission tickets are keyed over: fresh per signaling conversation."""
    return ADMIT_CONTEXT + listener_nonce + dialer_key + listener_key


def _ticket(key: bytes, transcript: bytes) -> bytes:
    return hashlib.blake2b(transcript, digest_size=TICKET_SIZE, key=key, person=b"hubbub-admit").digest()


def _keyed_list(secrets: Iterable[RoomSecret], make: Callable[[bytes], bytes], size: int, cap: int,
                pad: int) -> bytes:
    """`make(K)` for each distinct secret's key (at most `cap`), padded with random entries to a
    non-zero multiple of `pad`, sorted (which shuffles, and hides the padding)."""
    entries: list[bytes] = []
    seen: set[bytes] = set()
    for item in secrets:
        if item.secret in seen or len(entries) >= cap:
            continue
        seen.add(item.secret)
        entries.append(make(_secret_key(item.secret)))
    while len(entries) % pad or not entries:
        entries.append(os.urandom(size))
    entries.sort()
    return b"".join(entries)


def make_tickets(secrets: Iterable[RoomSecret], transcript: bytes) -> bytes:
    """The KNOCK tickets: one per distinct secret (at most `MAX_TICKETS`), padded, sorted."""
    return _keyed_list(secrets, lambda key: _ticket(key, transcript), TICKET_SIZE, MAX_TICKETS, TOKEN_PAD)


class TicketBook:
    """The listener's side of admission tickets: which of its secrets a KNOCK proves."""

    def __init__(self, secrets: Sequence[RoomSecret] = ()) -> None:
        keys: dict[bytes, tuple[bytes, list[RoomSecret]]] = {}
        for item in secrets:
            entry = keys.setdefault(item.secret, (_secret_key(item.secret), []))
            entry[1].append(item)
        self._keys = list(keys.values())

    def proven(self, field: bytes, transcript: bytes) -> list[RoomSecret]:
        """The secrets `field` holds a ticket for; ValueError if it is not whole tickets."""
        if len(field) % TICKET_SIZE:
            raise ValueError("ticket field is not a whole number of tickets")
        tickets = {field[i : i + TICKET_SIZE] for i in range(0, len(field), TICKET_SIZE)}
        found: list[RoomSecret] = []
        for key, items in self._keys:
            if _ticket(key, transcript) in tickets:
                found.extend(items)
        return found


BEACON_SIZE = 8
MAX_BEACONS = 16
"""Beacons a node announces at most (one per secret, the first ones given)."""


def _beacon(key: bytes, node_id: str) -> bytes:
    return hashlib.blake2b(node_id.encode(), digest_size=BEACON_SIZE, key=key, person=b"hubbub-beacon").digest()


def make_beacons(secrets: Iterable[RoomSecret], node_id: str) -> bytes:
    """Room beacons for an mDNS announcement: `BLAKE2b(key=K, node id)` per secret, padded, sorted.

    Only a holder of a secret can recognise its beacon; the node id is random per start, so
    beacons cannot be linked across starts. They let a node tell a room-mate's announcement from
    a flood of others before dialing anyone (a hint, never trust: the session proves it).
    """
    return _keyed_list(secrets, lambda key: _beacon(key, node_id), BEACON_SIZE, MAX_BEACONS, 4)


class BeaconBook:
    """Recognises room beacons made with any of our secrets."""

    def __init__(self, secrets: Sequence[RoomSecret] = ()) -> None:
        self._keys = list({_secret_key(item.secret) for item in secrets})

    def matches(self, beacons: bytes, node_id: str) -> bool:
        """True when `beacons` holds one made with one of our secrets for `node_id`."""
        if not beacons or len(beacons) % BEACON_SIZE or len(beacons) > MAX_BEACONS * BEACON_SIZE:
            return False
        found = {beacons[i : i + BEACON_SIZE] for i in range(0, len(beacons), BEACON_SIZE)}
        return any(_beacon(key, node_id) in found for key in self._keys)
