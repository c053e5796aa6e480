"""Where a message goes: its channel, and the thread it replies in (`send`, and `send --file` inside a node)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import HubbubError

if TYPE_CHECKING:
    from crdt.view import Message

    from ..room import Room

DEFAULT_CHANNEL = "general"


def thread_root(room: Room, message_id: str) -> Message:
    """The first message of the thread that `message_id` starts or belongs to."""
    msg = room.message(message_id)
    return room.message(msg.thread) if msg.thread else msg


def channel_for(room: Room, channel: str | None, root: Message | None) -> str:
    if root is None:
        return channel or DEFAULT_CHANNEL
    if channel is not None and room.find_channel(channel).id != root.channel:
        raise HubbubError(f"That thread is in #{room.find_channel(root.channel).name}, not in #{channel.lstrip('#')}.")
    return root.channel


def channel_and_thread(room: Room, args: argparse.Namespace) -> tuple[str, str | None]:
    """The channel a `send` posts to and the thread it replies in (from --channel and --thread)."""
    root = thread_root(room, args.thread) if args.thread else None
    return channel_for(room, args.channel, root), (root.id if root is not None else None)
