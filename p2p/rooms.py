"""Plain room descriptions the app hands to the p2p layer: secrets to match, public rooms to announce."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoomSecret:
    """A secret proving a claim on a room: `label` is the app's word for it ("room", "invite:<id>")."""

    room_id: bytes
    secret: bytes
    label: str


@dataclass(frozen=True)
class PublicRoom:
    """A room the app chose to announce on the LAN."""

    room_id: bytes
    name: str
    tags: tuple[str, ...] = ()
    member_count: int = 0


@dataclass(frozen=True)
class PublicRoomSeen:
    """A public room announced by some node on the LAN (a hint: nothing here is verified)."""

    room_id: bytes
    name: str
    tags: tuple[str, ...]
    member_count: int
    host: str
    port: int
    node_id: str
