"""The room browser's list (GUI state, no widgets): one line per public room, told apart and look-alikes marked.

Two public rooms can share a name, tags and an owner's display name; what they cannot share is
the room id (the hash of the room's signed genesis) and the signed announcer's key. So every line
shows short fingerprints of the room id and of the owner's key, the member count is marked
unverified (it is the announcer's word until the signed room state is known), and rooms that share
a name are marked: "2 rooms named lobby".
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass

from ..services import PublicRoom
from .text import plural


def fingerprint(key: bytes) -> str:
    """A short, unambiguous fingerprint of a key or id: 40 bits as two groups of base32, "ABCD-EFGH"."""
    digest = hashlib.blake2b(key, digest_size=5, person=b"hubbub-fp").digest()
    text = base64.b32encode(digest).decode()
    return f"{text[:4]}-{text[4:]}"


@dataclass(frozen=True, slots=True)
class BrowserLine:
    """One room as the browser lists it."""

    room_id: bytes
    title: str
    detail: str
    warning: str = ""

    def text(self) -> str:
        return "\n".join(part for part in (self.title, self.detail, self.warning) if part)


def _who(room: PublicRoom) -> str:
    if room.owner_key:
        owner = f"owner {room.owner_name or 'unnamed'} ({fingerprint(room.owner_key)})"
        if room.announcer_key and room.announcer_key != room.owner_key:
            owner += f", announced by {fingerprint(room.announcer_key)}"
        return owner
    if room.announcer_key:
        return f"announced by {fingerprint(room.announcer_key)}"
    return "owner unknown"


def browser_lines(rooms: list[PublicRoom]) -> list[BrowserLine]:
    """The browser's lines, by name; each room once (announcements by its owner preferred)."""
    by_id: dict[bytes, PublicRoom] = {}
    for room in rooms:
        kept = by_id.get(room.room_id)
        if kept is None or (room.announcer_key == room.owner_key != b"" and kept.announcer_key != kept.owner_key):
            by_id[room.room_id] = room
    names = Counter(room.name.casefold() for room in by_id.values())
    lines = []
    for room in sorted(by_id.values(), key=lambda r: (r.name.casefold(), r.room_id)):
        tags = "  ".join("#" + t for t in room.tags)
        detail = (f"{_who(room)}  ·  room {fingerprint(room.room_id)}  ·  "
                  f"{plural(room.members, 'member')} (unverified)" + (f"  ·  {tags}" if tags else ""))
        same = names[room.name.casefold()]
        warning = f"⚠ {same} rooms named {room.name}: check the fingerprints" if same > 1 else ""
        lines.append(BrowserLine(room.room_id, room.name + (f" — {room.topic}" if room.topic else ""), detail, warning))
    return lines
