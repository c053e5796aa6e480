"""What the node puts on the `sync` and `live` channels: a type byte, then a sync frame, a join grant or a live signal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from crdt.jsonsafe import loads_capped

SYNC = 0
GRANT = 1
MAX_LIVE = 4096
MAX_GRANT = 256 * 1024
MAX_GRANT_KEYS = 1000
MAX_NAME = 100
SEALED_KEY_SIZES = range(1, 257)  # a room key sealed to the peer's identity: 80 bytes today
_HEX = "0123456789abcdef"


class WireError(ValueError):
    """A message from a peer that does not parse."""


def room_secret(room_key0: bytes) -> bytes:
    """The secret members prove they hold to find each other: derived from the room's first key."""
    return hashlib.blake2b(b"hubbub-room-discovery", key=room_key0, digest_size=32).digest()


def public_secret(room_id: bytes) -> bytes:
    """The join secret of a public room: anyone who sees the room on the LAN can derive it."""
    return hashlib.blake2b(b"hubbub-public-join" + room_id, digest_size=32).digest()


def encode_sync(frame: bytes) -> bytes:
    return bytes((SYNC,)) + frame


@dataclass(frozen=True, slots=True)
class Grant:
    """A room's keys sealed to one peer, and the room's name.

    Either a member's answer to a joiner (sent in the room being joined), or, with `room` set and
    `direct` true, a direct room pushed to a peer: sent in a room both already share, naming the new one.
    """

    name: str
    keys: dict[int, bytes]
    room: bytes | None = None
    direct: bool = False

    def encode(self) -> bytes:
        body: dict[str, object] = {"name": self.name, "keys": {str(e): k.hex() for e, k in self.keys.items()}}
        if self.room is not None:
            body["room"] = self.room.hex()
        if self.direct:
            body["dm"] = True
        return bytes((GRANT,)) + json.dumps(body).encode()


def _hex(value: object, sizes: range, what: str) -> bytes:
    """Bytes written as lowercase hex digits, as `bytes.hex` writes them, of a length in `sizes`."""
    if not isinstance(value, str) or len(value) % 2 or len(value) // 2 not in sizes or value.strip(_HEX):
        raise WireError(f"malformed grant: {what} is not hex of the right size")
    return bytes.fromhex(value)


def _epoch(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or (value[0] == "0" and value != "0"):
        raise WireError("malformed grant: a key epoch is not a number")
    return int(value)


def decode_sync_channel(payload: bytes) -> tuple[int, bytes | Grant]:
    """Split a `sync` channel message into (type, body); raises WireError and nothing else."""
    if not payload:
        raise WireError("empty message")
    kind, body = payload[0], payload[1:]
    if kind == SYNC:
        return SYNC, body
    if kind == GRANT:
        obj = loads_capped(body, WireError, max_size=MAX_GRANT, what="a grant")
        if not isinstance(obj, dict) or not isinstance(obj.get("keys"), dict):
            raise WireError("malformed grant")
        keys = {_epoch(e): _hex(k, SEALED_KEY_SIZES, "a sealed key") for e, k in obj["keys"].items()}
        name, direct = obj.get("name", ""), obj.get("dm", False)
        if not isinstance(name, str) or not isinstance(direct, bool):
            raise WireError("malformed grant")
        room = _hex(obj["room"], range(32, 33), "the room id") if "room" in obj else None
        if not keys or len(keys) > MAX_GRANT_KEYS:
            raise WireError("malformed grant")
        if direct != (room is not None):
            raise WireError("malformed grant: a direct room grant names its room, and only it does")
        return GRANT, Grant(name[:MAX_NAME], keys, room, direct)
    raise WireError(f"unknown sync message type {kind}")


def encode_live(kind: str, /, **fields: Any) -> bytes:
    return json.dumps({"t": kind, **fields}, separators=(",", ":")).encode()


def decode_live(payload: bytes) -> dict[str, Any]:
    """A live signal: a JSON object with a string `t`; raises WireError and nothing else."""
    obj = loads_capped(payload, WireError, max_size=MAX_LIVE, what="a live message")
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str):
        raise WireError("live message has no type")
    return obj
