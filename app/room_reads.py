"""A room's read side: who is in it, its channels, its settings and its messages as the view shows them."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from crdt.room import RoomLog
from crdt.schema import Role, short_id
from crdt.view import Channel, Message, RoomView

from .errors import HubbubError
from .profile import Profile


def now_ms() -> float:
    return time.time() * 1000.0


def slug(name: str) -> str:
    """The channel id for a channel name: lower case, dashes for spaces."""
    s = re.sub(r"[^\w\-]+", "-", name.strip().lower()).strip("-")
    return s[:64] or "channel"


@dataclass(frozen=True, slots=True)
class MemberInfo:
    key: bytes
    short: str
    name: str
    role: Role


class RoomReads:
    """The queries of a `Room` (app/room.py): they read the log's state and the view, and never write."""

    profile: Profile
    log: RoomLog
    view: RoomView
    stored_name: str

    @property
    def id(self) -> bytes:
        return self.log.room_id

    @property
    def name(self) -> str:
        return str(self.view.settings().get("n") or self.log.state().name or self.stored_name)

    @property
    def me(self) -> bytes:
        return self.profile.public_key

    def my_role(self) -> Role | None:
        return self.log.state().role_of(self.me)

    def members(self) -> list[MemberInfo]:
        state = self.log.state()
        out = [MemberInfo(k, short_id(k), m.name or short_id(k), m.role) for k, m in state.members.items()]
        out.sort(key=lambda m: (-int(m.role), m.name.lower()))
        return out

    def name_of(self, short: str) -> str:
        state = self.log.state()
        for k, m in [*state.members.items(), *state.former.items()]:
            if short_id(k) == short:
                return m.name or short
        return short

    def channels(self) -> list[Channel]:
        return self.view.channels()

    def find_channel(self, name: str) -> Channel:
        wanted = name.lstrip("#")
        for c in self.channels():
            if c.id == wanted or c.name == wanted or c.id == slug(wanted):
                return c
        raise HubbubError(f"The room has no channel named {name}.")

    def is_public(self) -> bool:
        return self.log.state().public

    def is_direct(self) -> bool:
        """A direct room (a DM): a room of two, marked so by its creator in the room settings."""
        return self.view.settings().get("dm") is True

    def direct_peer(self) -> bytes | None:
        """In a direct room, the other member's key (None elsewhere, or before they were added)."""
        if not self.is_direct():
            return None
        return next((k for k in self.log.state().active_members() if k != self.me), None)

    def history(self, channel: str = "general", limit: int | None = None) -> list[Message]:
        cid = self.find_channel(channel).id
        if limit is None:
            return self.view.history(cid, now_ms=now_ms())
        return self.view.page(cid, limit, now_ms=now_ms())

    def message(self, message_id: str) -> Message:
        msg = self.view.message(message_id, now_ms())
        if msg is None:
            raise HubbubError("That message is not in this room.")
        return msg

    def _author_of(self, short: str) -> bytes | None:
        for k in self.log.chains:
            if short_id(k) == short:
                return k
        return None
