"""The commands that need no network, run against an open node: shared by the CLI and the running node's control socket.

Each handler takes the node, the parsed arguments and the stream for its output, and returns
the exit status. A refusal is a `HubbubError` whose message is one sentence; the caller prints
it and exits with status 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from ..errors import HubbubError
from . import admin, find, messages, relays, rooms

if TYPE_CHECKING:
    from ..node import Node

Handler = Callable[["Node", argparse.Namespace, TextIO], int]

HANDLERS: dict[str, Handler] = {
    "room": rooms.room,
    "name": rooms.name,
    "export": rooms.export,
    "import": rooms.import_log,
    "send": messages.send,
    "history": messages.history,
    "edit": messages.edit,
    "delete": messages.delete,
    "react": messages.react,
    "pin": messages.pin,
    "read": messages.read,
    "search": find.search,
    "open": find.open_link,
    "invite": admin.invite,
    "member": admin.member,
    "channel": admin.channel,
    "relay": relays.relay,
    "peers": relays.peers,
}

# Commands that may change which rooms, invites or keys a running node must tell its peers about.
CHANGES_ROOMS = frozenset(("room", "invite", "member", "import", "relay"))

READ_ONLY = frozenset(("history", "export", "search", "open", "peers"))


def is_read_only(args: argparse.Namespace) -> bool:
    """Whether the command only reads (it must not create a profile that is not there)."""
    if args.command == "room":
        return bool(args.room_command == "list")
    if args.command == "member":
        return bool(args.member_command == "list")
    if args.command == "relay":
        return bool(args.relay_command == "list")
    return args.command in READ_ONLY


def changes_rooms(args: argparse.Namespace) -> bool:
    """Whether, after this command, a running node must refresh what it proves to peers (`room list` does not)."""
    if args.command == "room":
        return bool(args.room_command != "list")
    if args.command == "member":
        return bool(args.member_command != "list")
    if args.command == "relay":
        return bool(args.relay_command != "list")
    return args.command in CHANGES_ROOMS


def execute(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    """Run one command; returns its exit status."""
    handler = HANDLERS.get(args.command)
    if handler is None:
        raise HubbubError(f"The command {args.command} needs a running node.")
    return handler(node, args, out)


__all__ = ["CHANGES_ROOMS", "HANDLERS", "changes_rooms", "execute", "is_read_only"]
