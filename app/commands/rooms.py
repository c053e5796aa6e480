"""`room create|list`, `name`, `export` and `import`: the commands about a profile's rooms as a whole."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..node import Node


def room(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    if args.room_command == "create":
        print(node.create_room(args.name).id.hex(), file=out)
    elif args.room_command == "icon":
        from ..errors import HubbubError
        from ..files.commands import store_for
        from ..files.profile_pictures import set_room_icon
        from ..models import Role

        target = node.find_room(args.room)
        role = target.my_role()
        if role is None or role < Role.ADMIN:  # room settings need an admin (the validator agrees)
            raise HubbubError("Setting the room's icon needs the admin role.")
        store = store_for(node)
        assert store is not None
        try:
            print(set_room_icon(store, target, args.picture.expanduser().resolve()).id, file=out)
        finally:
            store.close()
    else:
        for rid, name in node.room_list():
            print(f"{rid.hex()}  {name}", file=out)
    return 0


def name(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    if args.new_name:
        node.profile.set_display_name(args.new_name)
        for r in node.open_rooms():
            if r.my_role() is not None:
                r.set_member_name(args.new_name)
    if getattr(args, "avatar", None):
        from ..files.commands import store_for
        from ..files.profile_pictures import set_avatar

        store = store_for(node)
        assert store is not None
        try:
            set_avatar(node, store, args.avatar.expanduser().resolve())
        finally:
            store.close()
    print(node.profile.display_name, file=out)
    return 0


def export(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    target = node.find_room(args.room)
    size = node.export(target, args.format, args.out)
    note = " It holds the room's keys: keep it secret (written with mode 0600)." if args.format == "log" else ""
    print(f"Wrote {args.out} ({size} bytes).{note}", file=sys.stderr)
    return 0


def import_log(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    report = node.import_log(args.file)
    for problem in report.problems:
        print(f"hubbub: skipped: {problem}", file=sys.stderr)
    print(f"Imported {report.added} new entries into {report.name or report.room_id.hex()} "
          f"({report.known} already known, {len(report.problems)} problems).", file=out)
    return 0
