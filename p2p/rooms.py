"""Plain room descriptions the app hands to the p2p layer: secrets to match, public rooms to announce."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoomSecret:
    """A secret proving a claim on a room: `label` is the app's word for it ("room", "invite:<id>")."""

    room_id: bytes
    secret: bytes
    label: str
    open: bool = False
    """Anyone can derive this secret (a public room's join secret): proving it in signaling puts
    a peer in the strangers' lane, not the members' (p2p.admission)."""


@dataclass(frozen=True)
class PublicRoom:
    """A room the app chose to announce on the LAN; the owner fields are the announcer's claim."""

    room_id: bytes
    name: str
    tags: tuple[str, ...] = ()
    member_count: int = 0
    owner_key: bytes = b""
    owner_name: str = ""


@dataclass(frozen=True)
class PublicRoomSeen:
    """A public room announced by some node on the LAN.

    The announcement was signed by `announcer_key` (an identity key; unsigned or forged ones are
    dropped), so nobody can announce in another key's name. Everything else is that key's claim:
    the name, the member count (unverified until the signed room state is known) and the owner.
    """

    room_id: bytes
    name: str
    tags: tuple[str, ...]
    member_count: int
    host: str
    port: int
    node_id: str
    owner_key: bytes = b""
    owner_name: str = ""
    announcer_key: bytes = b""
