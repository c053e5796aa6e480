"""`send`, `history`, `edit`, `delete`, `react`, `pin` and `read`: what a member does with messages, by the app's rules."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from .. import rights
from .threads import DEFAULT_CHANNEL, channel_and_thread, channel_for, thread_root

if TYPE_CHECKING:

    from ..node import Node


def send(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    channel, thread = channel_and_thread(room, args)
    from ..files.commands import send_with_files, wants_files  # Pillow and the chunk store only when needed

    if wants_files(args):
        return send_with_files(node, args, out, channel, thread)
    if args.text == "-":
        source: Iterable[str] = getattr(args, "_stdin_lines", None) or sys.stdin  # the control socket passes the lines
        texts = [line.rstrip("\n") for line in source if line.strip()]
    else:
        texts = [args.text]
    with room.batch():  # one commit for all the lines of standard input
        ids = [room.post(channel, text, reply_to=args.reply_to, thread=thread, ttl=args.ttl) for text in texts]
    for mid in ids:
        print(mid, file=out)
    return 0


def history(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    from ..files.commands import json_records_for
    from ..models import message_record

    room = node.find_room(args.room)
    if args.thread:
        root = thread_root(room, args.thread)
        channel_for(room, args.channel, root)
        msgs = [m for m in room.history(root.channel) if m.id == root.id or m.thread == root.id]
    else:
        msgs = room.history(args.channel or DEFAULT_CHANNEL)
    if args.json:
        as_json = json_records_for(node)
        records = [as_json(m, room.name_of) for m in msgs]
        print(json.dumps(records, ensure_ascii=False, indent=1), file=out)
        return 0
    for m in msgs:
        record = message_record(m, room.name_of)
        text = "(deleted)" if m.deleted else m.text
        extra = []
        if m.edited:
            extra.append("edited")
        if m.reactions:
            extra.append(" ".join(f"{e}{len(w)}" for e, w in m.reactions.items()))
        if m.reply_to:
            extra.append(f"reply to {m.reply_to}")
        if m.thread and not args.thread:
            extra.append(f"in thread {m.thread}")
        if m.pinned:
            extra.append("pinned")
        for a in m.attachments:
            extra.append(f"file {a.get('n')} ({int(a.get('s', 0))} bytes)")
        suffix = f"  [{'; '.join(extra)}]" if extra else ""
        print(f"{record['time']}  {record['author_name']}: {text}{suffix}", file=out)
    return 0


def edit(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    msg = room.message(args.message)
    rights.enforce(rights.may_edit(room, msg))
    room.edit(msg.id, args.text)
    return 0


def delete(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    msg = room.message(args.message)
    rights.enforce(rights.may_delete(room, msg))
    room.delete(msg.id)
    return 0


def react(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    msg = room.message(args.message)
    mine = rights.my_short(room) in msg.reactions.get(args.emoji, [])
    if args.remove:
        rights.enforce(rights.not_a_member(room))
        if not mine:
            print(f"You had not reacted with {args.emoji} to that message.", file=sys.stderr)
            return 0
        room.unreact(msg.id, args.emoji)
        return 0
    rights.enforce(rights.may_react(room, msg))
    if mine:
        print(f"You already reacted with {args.emoji} to that message.", file=sys.stderr)
        return 0
    room.react(msg.id, args.emoji)
    return 0


def pin(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    room = node.find_room(args.room)
    msg = room.message(args.message)
    if args.remove:
        if not msg.pinned:
            print("That message is not pinned.", file=sys.stderr)
            return 0
        rights.enforce(rights.may_unpin(room, msg))
        room.unpin(msg.id)
        return 0
    if msg.pinned:
        print("That message is already pinned.", file=sys.stderr)
        return 0
    rights.enforce(rights.may_pin(room, msg))
    room.pin(msg.id)
    return 0


def read(node: Node, args: argparse.Namespace, out: TextIO) -> int:
    """Mark channels read up to their newest message (or now, whichever is later), as the app does."""
    room = node.find_room(args.room)
    if args.channel:
        channels = [room.find_channel(args.channel)]
    else:
        channels = [c for c in room.channels() if c.kind == "text"]
    now = time.time() * 1000.0
    for c in channels:
        newest = room.view.page(c.id, 1)
        node.profile.store.set_read_mark(room.id, c.id, max(newest[-1].ts if newest else 0.0, now))
    return 0
