"""Private room matching: keyed tokens that tell two peers which rooms they share, and nothing else.

For each secret it holds, a side sends `token = BLAKE2b(key=K, transcript || side)`, where
`K = BLAKE2b(secret)` and the transcript binds both identity keys, both session nonces and both
DTLS fingerprints. Next to each token goes the side's label for that secret, sealed with a key only
holders of the secret can derive. A token for a secret the other side lacks is indistinguishable
from random; the list is padded with random entries so its length hides the number of rooms.
Tokens are bound to the session, so they cannot be replayed or linked across sessions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence

import nacl.exceptions
import nacl.secret

from p2p.frames import TOKEN_ENTRY_SIZE
from p2p.rooms import RoomSecret

TOKEN_SIZE = 32
LABEL_SIZE = 64
TOKEN_PAD = 8
"""Token lists are padded with random entries up to a multiple of this."""

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
