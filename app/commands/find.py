"""`search` and `open`: finding messages across the profile's rooms, and showing the one a hubbub://message/ link names."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import HubbubError
from ..links import JoinLink, message_link, parse_link

if TYPE_CHECKING:
    from crdt.view import Message

    from ..node import Node
    from ..room import Room

CONTEXT = 5  # messages shown before and after the one a link names


def search(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    from ..files.commands import json_records_for
    from ..models import message_record

    room = node.find_room(args.room) if args.room else None
    hits = node.search(args.query, room, args.limit)
    if args.json:
        records = []
        as_json = json_records_for(node)
        for h in hits:
            record: dict[str, Any] = as_json(h.message, h.room.name_of)
            record.update(room=h.room.id.hex(), room_name=h.room.name, channel_name=h.channel_name,
                          snippet=h.marked(), link=message_link(h.room.id, h.message.id))
            records.append(record)
        print(json.dumps(records, ensure_ascii=False, indent=1), file=out)
        return 0
    for h in hits:
        record = message_record(h.message, h.room.name_of)
        snippet = " ".join(h.marked().split())
        print(f"{record['time']}  {h.room.name} #{h.channel_name}  {record['author_name']}: {snippet}  ({h.message.id})",
              file=out)
    return 0


def context_of(room: Room, message: Message, around: int = CONTEXT) -> list[Message]:
    """The message with up to `around` messages before and after it in its channel."""
    from ..room import now_ms

    pos = room.view.position(message.id)
    if pos is None:
        return [message]
    shown = room.view.page(message.channel, 2 * around + 1, before=pos + around + 1, now_ms=now_ms())
    return shown if any(m.id == message.id for m in shown) else [message]


def open_link(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    link = parse_link(args.link)
    if isinstance(link, JoinLink):
        raise HubbubError("That is an invite link; to join the room, run hubbub join LINK.")
    if not node.has_room(link.room_id):
        raise HubbubError("That message is in a room you are not in.")
    room = node.room(link.room_id)
    try:
        message = room.message(link.message_id)
    except HubbubError:
        raise HubbubError(f"That message is not in {room.name} (it may not have reached you yet).") from None
    msgs = context_of(room, message)
    from ..files.commands import json_records_for
    from ..models import message_record

    channel = next((c.name for c in room.channels() if c.id == message.channel), message.channel)
    if args.json:
        as_json = json_records_for(node)
        print(json.dumps({"room": room.id.hex(), "room_name": room.name, "channel": message.channel, "channel_name": channel,
                          "message": message.id, "messages": [as_json(m, room.name_of) for m in msgs]},
                         ensure_ascii=False, indent=1), file=out)
        return 0
    print(f"{room.name} #{channel}", file=out)
    for m in msgs:
        record = message_record(m, room.name_of)
        text = "(deleted)" if m.deleted else " ".join(m.text.split())
        mark = ">" if m.id == message.id else " "
        print(f"{mark} {record['time']}  {record['author_name']}: {text}", file=out)
    return 0
