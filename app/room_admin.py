"""A room's administration: channels, settings, members and their roles, invites."""

from __future__ import annotations

import secrets
from typing import Any

from crdt.control import ControlOp
from crdt.schema import CHANNELS, SETTINGS

from .errors import HubbubError
from .room_reads import now_ms, slug
from .room_writes import RoomWrites


class RoomAdmin(RoomWrites):
    """What an owner or moderator changes in a `Room` (app/room.py): its channels, settings and membership."""

    def create_channel(self, name: str, kind: str = "text", category: str = "", ttl: float | None = None) -> str:
        cid = slug(name)
        if any(c.id == cid for c in self.channels()):
            raise HubbubError(f"The room already has a channel named {name}.")
        value: dict[str, Any] = {"id": cid, "n": name.strip(), "k": kind, "g": category, "ts": now_ms(),
                                 "pos": float(len(self.channels())), "del": False}  # undeletes a deleted one
        if ttl:
            value["ttl"] = float(ttl)
        self._write(CHANNELS, value)
        return cid

    def update_channel(self, channel: str, **fields: Any) -> None:
        c = self.find_channel(channel)
        value: dict[str, Any] = {"id": c.id, "ts": now_ms()}
        mapping = {"name": "n", "category": "g", "ttl": "ttl", "topic": "topic", "deleted": "del"}
        for k, v in fields.items():
            value[mapping[k]] = v
        self._write(CHANNELS, value)

    def update_settings(self, *, name: str | None = None, public: bool | None = None, tags: list[str] | None = None,
                        topic: str | None = None, direct: bool | None = None, icon: dict[str, Any] | None = None,
                        relays: list[str] | None = None) -> None:
        value: dict[str, Any] = {"ts": now_ms()}
        if relays is not None:
            value["rl"] = relays  # canonical relay addresses (app/relay/settings.py)
        if icon is not None:
            value["icon"] = icon  # a picture's manifest (app/files/profile_pictures.py)
        if direct is not None:
            value["dm"] = direct
        if name is not None:
            value["n"] = name.strip()
        if public is not None:
            value["pub"] = public
        if tags is not None:
            value["tags"] = tags
        if topic is not None:
            value["topic"] = topic
        self._write(SETTINGS, value)
        if public is not None and public != self.is_public():
            self._control(ControlOp("public", {"on": public}))
        if name:
            self.profile.store.set_room_name(self.id, name.strip())

    def add_member(self, member: bytes, role: str = "member", name: str = "", invite: str | None = None,
                   public: bool = False) -> None:
        args: dict[str, Any] = {"member": member.hex(), "role": role, "name": name}
        if public:
            args["public"] = True
        if invite:
            args["invite"] = invite
        self._control(ControlOp("add", args))

    def set_role(self, member: bytes, role: str) -> None:
        """Change a member's role; a demotion voids what they did that we had not seen (after_seq)."""
        self._control(ControlOp("role", {"member": member.hex(), "role": role, "after_seq": self.log.head(member)}))

    def set_member_name(self, name: str) -> None:
        self._control(ControlOp("name", {"name": name}))

    def remove_member(self, member: bytes) -> None:
        """Remove a member and rotate the room key so they cannot read what follows."""
        if member == self.me:
            # Leaving: we must not pick the next key; the members who stay rotate (`rekey_if_needed`).
            self._control(ControlOp("remove", {"member": member.hex(), "after_seq": self.log.head(member)}))
            return
        self._control(ControlOp("remove", {"member": member.hex(), "after_seq": self.log.head(member),
                                           "rotate": self._rotation(member)}))

    def create_invite(self, valid_seconds: float | None = 7 * 24 * 3600, uses: int = 1) -> tuple[str, bytes, int | None]:
        """Record an invite for `uses` joiners; returns (invite id, invite secret, expiry in ms or None: never)."""
        if uses < 1:
            raise HubbubError("An invite must admit at least one person.")
        invite_id = secrets.token_urlsafe(12)
        secret = secrets.token_bytes(32)
        expires = None if valid_seconds is None else int(now_ms() + valid_seconds * 1000)
        args: dict[str, Any] = {"id": invite_id, "key": secret.hex(), "expires_ms": expires}
        if uses != 1:
            args["uses"] = uses
        self._control(ControlOp("invite", args))
        return invite_id, secret, expires
