"""What my role in a room lets me do, and the one sentence that says why not (for the CLI's refusals and the app's menus).

Each check returns None when the action is allowed, else a sentence for the user. The rules
are the validator's (crdt/room.py, crdt/control.py), asked before writing so that a refusal
names the role it needs instead of the validator's clause; the validator still decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crdt.schema import Role, short_id

from .errors import HubbubError

if TYPE_CHECKING:
    from crdt.view import Message

    from .room import MemberInfo, Room


def enforce(why: str | None) -> None:
    """Raise the refusal `why` as a HubbubError (None: the action is allowed)."""
    if why is not None:
        raise HubbubError(why)


def my_short(room: Room) -> str:
    """My short id in `room`'s ids (the `author` of my messages)."""
    return short_id(room.me)


def _role_phrase(role: Role) -> str:
    name = role.name.lower()
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def not_a_member(room: Room) -> str | None:
    if room.my_role() is None:
        return f"You are not a member of {room.name}, so you cannot change anything in it."
    return None


def _mine(room: Room, msg: Message) -> bool:
    return msg.author == my_short(room)


def _needs(room: Room, needed: Role, doing: str) -> str | None:
    role = room.my_role()
    if role is None:
        return not_a_member(room)
    if role >= needed:
        return None
    return f"{doing} needs {_role_phrase(needed)}; you are {_role_phrase(role)} of {room.name}."


def may_edit(room: Room, msg: Message) -> str | None:
    if (why := not_a_member(room)) is not None:
        return why
    if msg.deleted:
        return "That message was deleted, so it cannot be edited."
    if not _mine(room, msg):
        return f"Only its author can edit a message; this one is {room.name_of(msg.author)}'s."
    return None


def may_delete(room: Room, msg: Message) -> str | None:
    if msg.deleted:
        return "That message is already deleted."
    return not_a_member(room) if _mine(room, msg) else _needs(room, Role.MODERATOR, "Deleting someone else's message")


def may_pin(room: Room, msg: Message) -> str | None:
    if msg.deleted:
        return "That message was deleted, so it cannot be pinned."
    return not_a_member(room) if _mine(room, msg) else _needs(room, Role.MODERATOR, "Pinning someone else's message")


def may_unpin(room: Room, msg: Message) -> str | None:
    me = my_short(room)
    if all(pin[: len(me)] == me for pin in msg.pin_ids):
        return not_a_member(room)
    return _needs(room, Role.MODERATOR, "Unpinning a message someone else pinned")


def may_react(room: Room, msg: Message) -> str | None:
    if msg.deleted:
        return "That message was deleted, so it cannot get reactions."
    return not_a_member(room)


def may_change_channels(room: Room) -> str | None:
    return _needs(room, Role.ADMIN, "Creating, renaming and deleting channels")


def may_set_relays(room: Room) -> str | None:
    return _needs(room, Role.ADMIN, "Changing the room's relays")


def may_remove(room: Room, member: MemberInfo) -> str | None:
    if member.role == Role.OWNER:
        return f"{member.name} owns {room.name}, and the owner cannot be removed."
    if member.key == room.me:
        return not_a_member(room)  # leaving: anyone may remove themselves
    if (why := _needs(room, Role.ADMIN, "Removing a member")) is not None:
        return why
    mine = room.my_role() or Role.MEMBER
    if member.role >= mine:
        return f"Only an admin ranked above {member.name} ({member.role.name.lower()}) can remove them."
    return None


def may_set_role(room: Room, member: MemberInfo, new: Role) -> str | None:
    if (why := _needs(room, Role.ADMIN, "Changing a member's role")) is not None:
        return why
    mine = room.my_role() or Role.MEMBER
    if member.key == room.me:
        return "You cannot change your own role."
    if member.role >= mine:
        return f"Only someone ranked above {member.name} ({member.role.name.lower()}) can change their role."
    if new >= mine:
        return f"You can give roles below your own ({mine.name.lower()}) only."
    return None
