"""Public-room announcements as mDNS TXT records, signed by the announcing node's identity key.

TXT keys (all text): `v` (2), `rid` (room id hex), `name` (<= 64 bytes), `tags` (comma separated,
<= 200 bytes), `members` (the announcer's count: unverified), `node` (the announcer's node id),
`owner` (the owner's key hex, the announcer's claim, may be empty), `oname` (the owner's display
name, <= 64 bytes), `key` (the announcer's identity key hex) and `sig` (Ed25519 over the others).

A browser keeps only announcements whose signature verifies for `key`, so nobody can announce in
another key's name; two rooms that look alike differ in their room id and in the keys shown.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.signing

from p2p.rooms import PublicRoom, PublicRoomSeen

VERSION = "2"
CONTEXT = b"hubbub-public-room-v1\x00"
MAX_NAME = 64
MAX_TAGS = 200
SIGNED_KEYS = ("rid", "name", "tags", "members", "node", "owner", "oname", "key")


def _clip(text: str, cap: int) -> str:
    return text.encode("utf-8")[:cap].decode("utf-8", errors="ignore")


def _signed_part(values: dict[str, bytes]) -> bytes:
    return CONTEXT + b"".join(len(values[k]).to_bytes(4, "big") + values[k] for k in SIGNED_KEYS)


def room_properties(identity: nacl.signing.SigningKey, room: PublicRoom, node_id: str) -> dict[str, str]:
    """The TXT properties announcing `room` from node `node_id`, signed by `identity`."""
    tags = ",".join(t.replace(",", " ") for t in room.tags)
    text = {
        "rid": room.room_id.hex(),
        "name": _clip(room.name, MAX_NAME),
        "tags": _clip(tags, MAX_TAGS),
        "members": str(max(0, room.member_count)),
        "node": node_id,
        "owner": room.owner_key.hex(),
        "oname": _clip(room.owner_name, MAX_NAME),
        "key": bytes(identity.verify_key).hex(),
    }
    signature = identity.sign(_signed_part({k: v.encode() for k, v in text.items()})).signature
    return {"v": VERSION, **text, "sig": signature.hex()}


def parse_room(props: dict[bytes, bytes | None], host: str, port: int) -> PublicRoomSeen | None:
    """The announcement in `props` if it is well formed and its signature verifies, else None."""
    values: dict[str, bytes] = {}
    for key in (*SIGNED_KEYS, "sig", "v"):
        value = props.get(key.encode())
        if not isinstance(value, bytes) or len(value) > 255:
            return None
        values[key] = value
    if values["v"] != VERSION.encode() or len(values["name"]) > MAX_NAME or len(values["tags"]) > MAX_TAGS:
        return None
    try:
        text = {k: v.decode("utf-8") for k, v in values.items()}
        room_id = bytes.fromhex(text["rid"])
        owner = bytes.fromhex(text["owner"])
        announcer = bytes.fromhex(text["key"])
        signature = bytes.fromhex(text["sig"])
        members = int(text["members"]) if text["members"].isdigit() else -1
        nacl.signing.VerifyKey(announcer).verify(_signed_part(values), signature)
    except (UnicodeDecodeError, ValueError, TypeError, nacl.exceptions.CryptoError):
        return None
    node = text["node"]
    if not 0 < len(room_id) <= 64 or len(owner) not in (0, 32) or members < 0 or not _node_id_ok(node):
        return None
    return PublicRoomSeen(
        room_id=room_id,
        name=text["name"],
        tags=tuple(t for t in text["tags"].split(",") if t),
        member_count=members,
        host=host,
        port=port,
        node_id=node,
        owner_key=owner,
        owner_name=text["oname"],
        announcer_key=announcer,
    )


def _node_id_ok(node_id: str) -> bool:
    return 0 < len(node_id) <= 32 and all(c in "0123456789abcdef" for c in node_id)
