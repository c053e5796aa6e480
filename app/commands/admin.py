"""`invite`, `member list|remove|role` and `channel create|rename|delete`: running a room, by the roles' rules."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from crdt.schema import Role

from .. import rights
from ..errors import HubbubError
from ..members import find_member

if TYPE_CHECKING:
    from ..node import Node
    from ..room import Room

def invite(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    rights.enforce(rights.not_a_member(room))
    if args.valid_hours is not None:
        if args.valid_hours <= 0:
            raise HubbubError("--valid-hours must be more than 0.")
        valid: float | None = args.valid_hours * 3600
    else:
        valid = args.expires  # None: never
    print(node.invite(room, valid, args.uses).link(), file=out)
    return 0


def member(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    if args.member_command == "list":
        for m in room.members():
            print(f"{m.short}  {m.role.name.lower():<9}  {m.name}", file=out)
        return 0
    who = find_member(room, args.member)
    if args.member_command == "remove":
        rights.enforce(rights.may_remove(room, who))
        if room.log.head(who.key) < 0:  # a removal names the member's last entry (crdt/control.py `after_seq`)
            raise HubbubError(f"{who.name} has not written anything in {room.name} yet, and Hubbub cannot "
                              "remove a member before their first entry; try again once they have.")
        room.remove_member(who.key)
        return 0
    role = Role.parse(args.role)
    if who.role == role:
        print(f"{who.name} is already {'an' if args.role[0] in 'aeiou' else 'a'} {args.role} of {room.name}.", file=sys.stderr)
        return 0
    rights.enforce(rights.may_set_role(room, who, role))
    room.set_role(who.key, args.role)
    return 0


def _name_is_free(room: Room, name: str, keep: str | None = None) -> None:
    from ..room import slug

    for c in room.channels():
        if c.id != keep and (c.name.casefold() == name.strip().casefold() or c.id == slug(name)):
            raise HubbubError(f"{room.name} already has a channel named {c.name}.")


def channel(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    rights.enforce(rights.may_change_channels(room))
    if args.channel_command == "create":
        if not args.name.strip().lstrip("#"):
            raise HubbubError("A channel needs a name.")
        _name_is_free(room, args.name.lstrip("#"))
        print(room.create_channel(args.name.lstrip("#"), "voice" if args.voice else "text", args.category), file=out)
        return 0
    target = room.find_channel(args.name)
    if args.channel_command == "rename":
        new = args.new_name.strip().lstrip("#")
        if not new:
            raise HubbubError("A channel needs a name.")
        _name_is_free(room, new, keep=target.id)
        room.update_channel(target.id, name=new)
    else:
        room.update_channel(target.id, deleted=True)
    return 0
