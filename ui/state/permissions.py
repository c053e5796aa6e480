"""What my role in a room lets me do, worked out without widgets, so menus offer only what will succeed.

The rules mirror the room model's (`crdt.schema.required_role` and the control rules): my own
messages, reactions and pins are always mine to change; another member's message may be pinned,
unpinned or deleted by a moderator; channels and room settings are an admin's; an admin may remove
or re-role members ranked below them, never the owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models import Message, Role


@dataclass(frozen=True, slots=True)
class MessageRights:
    """The message-menu actions that will succeed for me on one message."""

    reply: bool = False
    react: bool = False
    edit: bool = False
    pin: bool = False
    unpin: bool = False
    delete: bool = False
    forward: bool = False
    thread: bool = False


def message_rights(role: Role | None, me: str, msg: Message) -> MessageRights:
    """What I (`me`, my short id, with `role` in the room; None = not a member) may do with `msg`."""
    if role is None or msg.deleted:
        return MessageRights()
    mine = msg.author == me
    moderator = role >= Role.MODERATOR
    # an unpin deletes the pin items: a member may take back only pins that member made
    own_pins = all(pin.startswith(me) for pin in msg.pin_ids)
    return MessageRights(
        reply=True, react=True, edit=mine and not msg.forward,
        pin=not msg.pinned and (mine or moderator), unpin=msg.pinned and (moderator or own_pins),
        delete=mine or moderator, forward=True, thread=msg.thread is None,
    )


@dataclass(frozen=True, slots=True)
class RoomRights:
    """The room-level actions my role allows."""

    role: Role | None
    direct: bool = False

    @property
    def member(self) -> bool:
        return self.role is not None

    @property
    def admin(self) -> bool:
        return self.role is not None and self.role >= Role.ADMIN

    @property
    def edit_room(self) -> bool:
        """Rename the room, its topic, public or private, its channels and their disappearing-message timers."""
        return self.admin and not self.direct

    @property
    def invite(self) -> bool:
        return self.member and not self.direct

    def may_remove(self, target: Role) -> bool:
        """Whether I may remove a member whose role is `target` (an admin, over lower ranks, never the owner)."""
        return self.admin and not self.direct and target < (self.role or Role.MEMBER) and target != Role.OWNER

    def may_set_role(self, target: Role) -> bool:
        return self.may_remove(target)

    def roles_to_give(self) -> list[Role]:
        """The roles I may give to someone below me (each strictly below my own)."""
        return [r for r in (Role.MEMBER, Role.MODERATOR, Role.ADMIN) if self.admin and r < (self.role or Role.MEMBER)]
