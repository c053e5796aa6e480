"""Shared set-up of the relay-app tests: an admin and a member holding one room, each in a real profile."""

from __future__ import annotations

from pathlib import Path

from app.node import Node
from app.profile import open_profile


def club(tmp: Path, admin: str, member: str) -> tuple[Node, Node]:
    """Nodes of `admin` (who made the room "Club") and `member` (added, and holding the room from its log)."""
    first = Node(open_profile(tmp / admin, display_name=admin))
    second = Node(open_profile(tmp / member, display_name=member))
    room = first.create_room("Club")
    room.add_member(second.profile.public_key, "member", member)
    first.export(room, "log", tmp / "club.log")
    second.import_log(tmp / "club.log")
    return first, second
