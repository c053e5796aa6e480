"""Relay key derivations: rendezvous tokens per hour, seal keys, mailbox auth and wrap keys, from a room key.

Everything the relay sees is derived with keyed BLAKE2b from a secret it never sees:

    rendezvous secret  = BLAKE2b(key=K, "hubbub-rdv-secret-v1")          K: a room key (of one key context)
                       = BLAKE2b(key=S, "hubbub-rdv-invite-v1")          S: an invite's secret
    token(h)           = BLAKE2b(key=secret, "hubbub-rdv-v1" || h:u64be)  16 bytes, h = unix time // 3600
    seal key           = BLAKE2b(key=secret, "hubbub-rdv-seal-v1")        32 bytes, seals the signaling
    mailbox auth       = BLAKE2b(key=K, "hubbub-mailbox-auth-v1")         32 bytes, names and opens a mailbox
    wrap key           = BLAKE2b(key=K, "hubbub-mailbox-wrap-v1")         32 bytes, seals the entries in it

A rotation brings a new K, so every value above changes with it: a removed member, who is not sealed
the new key, can derive neither the new tokens nor the new mailbox's auth nor its wrap key. Tokens
also change every hour, so a token seen on the wire says nothing after two hours.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

HOUR = 3600
TOKEN_SIZE = 16
KEY_SIZE = 32


def _keyed(key: bytes, label: bytes, size: int = KEY_SIZE) -> bytes:
    if len(key) != KEY_SIZE:
        raise ValueError(f"a relay derivation needs a {KEY_SIZE}-byte key, not {len(key)} bytes")
    return hashlib.blake2b(label, key=key, digest_size=size).digest()


def hour_of(unix_time: float | None = None) -> int:
    """The rendezvous hour of a moment (now by default)."""
    return int((time.time() if unix_time is None else unix_time) // HOUR)


@dataclass(frozen=True, slots=True)
class Rendezvous:
    """Where members (or an inviter and its joiner) meet on a relay: tokens per hour, and the key that seals what they say."""

    secret: bytes

    @classmethod
    def for_room_key(cls, room_key: bytes) -> Rendezvous:
        return cls(_keyed(room_key, b"hubbub-rdv-secret-v1"))

    @classmethod
    def for_invite(cls, invite_secret: bytes) -> Rendezvous:
        return cls(_keyed(invite_secret, b"hubbub-rdv-invite-v1"))

    def token(self, hour: int) -> bytes:
        """The 16-byte token of hour `hour`."""
        return _keyed(self.secret, b"hubbub-rdv-v1" + hour.to_bytes(8, "big"), TOKEN_SIZE)

    @property
    def seal_key(self) -> bytes:
        """The key that seals the signaling frames of a conversation met under these tokens."""
        return _keyed(self.secret, b"hubbub-rdv-seal-v1")

    def tokens(self, hour: int, spread: int = 1) -> dict[bytes, bytes]:
        """token -> seal key for the hours `hour - spread` to `hour + spread` (clock skew between members)."""
        seal = self.seal_key
        return {self.token(h): seal for h in range(hour - spread, hour + spread + 1)}


@dataclass(frozen=True, slots=True)
class MailboxKeys:
    """What a member needs for one key context's mailbox: the auth that names and opens it, and the wrap key."""

    auth: bytes
    wrap: bytes

    @classmethod
    def for_room_key(cls, room_key: bytes) -> MailboxKeys:
        return cls(_keyed(room_key, b"hubbub-mailbox-auth-v1"), _keyed(room_key, b"hubbub-mailbox-wrap-v1"))

    @property
    def label(self) -> str:
        """A short name for logs and the cursor table (a hash of the auth; says nothing about the room)."""
        return hashlib.blake2b(self.auth, digest_size=8, person=b"hubbub-mbx-label").hexdigest()
