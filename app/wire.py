"""What the node puts on the `sync` and `live` channels: a type byte, then a sync frame, a join grant or a live signal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

SYNC = 0
GRANT = 1
MAX_LIVE = 4096


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


def decode_sync_channel(payload: bytes) -> tuple[int, bytes | Grant]:
    """Split a `sync` channel message into (type, body)."""
    if not payload:
        raise WireError("empty message")
    kind, body = payload[0], payload[1:]
    if kind == SYNC:
        return SYNC, body
    if kind == GRANT:
        try:
            obj = json.loads(body)
            keys = {int(e): bytes.fromhex(k) for e, k in obj["keys"].items()}
            name = str(obj.get("name", ""))[:100]
            room = bytes.fromhex(obj["room"]) if "room" in obj else None
            direct = obj.get("dm", False)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WireError("malformed grant") from exc
        if not keys or len(keys) > 1000 or not isinstance(direct, bool):
            raise WireError("malformed grant")
        if (room is not None and len(room) != 32) or direct != (room is not None):
            raise WireError("malformed grant: a direct room grant names its room, and only it does")
        return GRANT, Grant(name, keys, room, direct)
    raise WireError(f"unknown sync message type {kind}")


def encode_live(kind: str, **fields: Any) -> bytes:
    return json.dumps({"t": kind, **fields}, separators=(",", ":")).encode()


def decode_live(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_LIVE:
        raise WireError("live message too large")
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError("live message is not JSON") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str):
        raise WireError("live message has no type")
    return obj
