"""What the node puts on the `sync` and `live` channels: a type byte, then a sync frame, a join grant or a live signal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from crdt.errors import DecodeError
from crdt.jsonsafe import canonical_json, loads, loads_canonical

SYNC = 0
GRANT = 1
KEYREQ = 2
JOINREQ = 3
REFUSE = 4
REFUSALS = ("used", "expired", "unknown")
MAX_LIVE = 4096
MAX_GRANT = 256 * 1024


class WireError(ValueError):
    """A message from a peer that does not parse."""


def room_secret(room_key: bytes) -> bytes:
    """The secret members prove they hold to find each other: derived from the room's current key, so a
    removed member, who lacks it, no longer matches the room."""
    return hashlib.blake2b(b"hubbub-room-discovery", key=room_key, digest_size=32).digest()


def public_secret(room_id: bytes) -> bytes:
    """The join secret of a public room: anyone who sees the room on the LAN can derive it."""
    return hashlib.blake2b(b"hubbub-public-join" + room_id, digest_size=32).digest()


def encode_sync(frame: bytes) -> bytes:
    return bytes((SYNC,)) + frame


@dataclass(frozen=True, slots=True)
class Grant:
    """Room keys sealed to one peer, with the room's name (and, for a joiner, its signed genesis entry).

    Three uses: a member's answer to a joiner (sent in the room being joined, carrying the genesis so the
    joiner can check the keys before keeping anything); keys a current member lacks (an answer to a
    `KeyRequest`); or, with `room` set and `direct` true, a direct room pushed to a peer, sent in a room
    both already share and naming the new one. `keys` maps a rotation id to its sealed key.
    """

    name: str
    keys: dict[bytes, bytes]
    room: bytes | None = None
    direct: bool = False
    genesis: bytes = b""

    def encode(self) -> bytes:
        body: dict[str, object] = {"name": self.name, "keys": {r.hex(): k.hex() for r, k in sorted(self.keys.items())}}
        if self.room is not None:
            body["room"] = self.room.hex()
        if self.direct:
            body["dm"] = True
        if self.genesis:
            body["genesis"] = self.genesis.hex()
        return bytes((GRANT,)) + canonical_json(body)


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """A member asking for the keys of rotations it has entries for but no key (sealed answers come as a Grant)."""

    rotations: tuple[bytes, ...]

    def encode(self) -> bytes:
        return bytes((KEYREQ,)) + canonical_json({"want": [r.hex() for r in sorted(self.rotations)]})


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A joiner that found a member of the room asks about its invite (by id only: the secret stays with it)."""

    invite_id: str

    def encode(self) -> bytes:
        return bytes((JOINREQ,)) + canonical_json({"invite": self.invite_id})


@dataclass(frozen=True, slots=True)
class JoinRefusal:
    """A member's answer to a joiner whose invite cannot admit it: "used", "expired" or "unknown"."""

    reason: str
    invite_id: str

    def encode(self) -> bytes:
        return bytes((REFUSE,)) + canonical_json({"invite": self.invite_id, "why": self.reason})


def probe_secret(room_id: bytes) -> bytes:
    """What a joiner holding an invite and the members of its room both derive, so the joiner can tell a member
    of the room is online and ask it about the invite. Anyone who knows the room id (from any invite link to
    it) can learn which LAN nodes are members of it; nothing more."""
    return hashlib.blake2b(b"hubbub-join-probe" + room_id, digest_size=32).digest()


_HEX = "0123456789abcdef"


def _hex(value: object, sizes: range) -> bytes:
    """Bytes written as `bytes.hex` writes them (lowercase digits), of a length in `sizes`."""
    if not isinstance(value, str) or len(value) % 2 or len(value) // 2 not in sizes or value.strip(_HEX):
        raise ValueError("not hex of the right size")
    return bytes.fromhex(value)


def _hex32(value: object) -> bytes:
    return _hex(value, range(32, 33))


SyncMessage = bytes | Grant | KeyRequest | JoinRequest | JoinRefusal


def decode_sync_channel(payload: bytes) -> tuple[int, SyncMessage]:
    """Split a `sync` channel message into (type, body); raises WireError for anything malformed."""
    if not payload:
        raise WireError("empty message")
    kind, body = payload[0], payload[1:]
    if kind == SYNC:
        return SYNC, body
    if kind not in (GRANT, KEYREQ, JOINREQ, REFUSE):
        raise WireError(f"unknown sync message type {kind}")
    try:
        obj = loads_canonical(body, "message", max_size=MAX_GRANT, max_depth=3)
    except DecodeError as exc:
        raise WireError(f"malformed message of type {kind}: {exc}") from exc
    if kind == JOINREQ:
        iid = obj.get("invite") if isinstance(obj, dict) else None
        if not isinstance(iid, str) or not 8 <= len(iid) <= 64 or len(obj) != 1:
            raise WireError("malformed join request")
        return JOINREQ, JoinRequest(iid)
    if kind == REFUSE:
        why = obj.get("why") if isinstance(obj, dict) else None
        iid = obj.get("invite") if isinstance(obj, dict) else None
        if why not in REFUSALS or not isinstance(iid, str) or not 8 <= len(iid) <= 64 or len(obj) != 2:
            raise WireError("malformed refusal")
        return REFUSE, JoinRefusal(str(why), iid)
    if kind == KEYREQ:
        try:
            want = tuple(_hex32(r) for r in obj["want"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WireError("malformed key request") from exc
        if not want or len(want) > 256 or list(want) != sorted(set(want)):
            raise WireError("malformed key request")  # (sorted and distinct: the one encoding)
        return KEYREQ, KeyRequest(want)
    if kind != GRANT:
        raise WireError(f"unknown sync message type {kind}")
    try:
        keys = {_hex32(r): _hex(k, range(1, 257)) for r, k in obj["keys"].items()}
        name = obj.get("name", "")
        room = _hex32(obj["room"]) if "room" in obj else None
        direct = obj.get("dm", False)
        genesis = _hex(obj["genesis"], range(1, 2048)) if "genesis" in obj else b""
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WireError("malformed grant") from exc
    if not keys or len(keys) > 1000 or not isinstance(direct, bool) or not isinstance(name, str):
        raise WireError("malformed grant")
    if direct != (room is not None):
        raise WireError("malformed grant: a direct room grant names its room, and only it does")
    return GRANT, Grant(name[:100], keys, room, direct, genesis)


def encode_live(kind: str, /, **fields: Any) -> bytes:
    return json.dumps({"t": kind, **fields}, separators=(",", ":")).encode()


def decode_live(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_LIVE:
        raise WireError("live message too large")
    try:
        obj = loads(payload, "live message", max_size=MAX_LIVE, max_depth=4)
    except DecodeError as exc:
        raise WireError(str(exc)) from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str):
        raise WireError("live message has no type")
    return obj
