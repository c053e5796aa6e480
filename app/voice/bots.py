"""Robot users for `hubbub node` (as in free4chat): join a voice channel, play a WAV or Ogg Opus file into it,
record its mixed output to a WAV or Ogg Opus file (written when the node stops)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import HubbubError
from app.voice.backends import BackendError, FileBackend

if TYPE_CHECKING:
    from app.node import Node
    from app.service import NodeService


@dataclass(frozen=True)
class BotPlan:
    """What a voice bot will do, checked before the node starts."""

    room_id: bytes
    channel_id: str
    play: Path | None
    record: Path | None
    loop: bool


def plan_bot(node: Node, args: argparse.Namespace) -> BotPlan | None:
    """Check the bot options against the profile (before anything starts); None if no bot."""
    room_query = getattr(args, "voice_room", None)
    if room_query is None:
        if args.voice_channel or args.voice_play or args.voice_record or args.voice_loop:
            raise HubbubError("--voice-channel, --voice-play and --voice-record need --voice-room.")
        return None
    room = node.find_room(room_query)
    voice = [c for c in room.channels() if c.kind == "voice"]
    if args.voice_channel is None:
        if not voice:
            raise HubbubError(f"{room.name} has no voice channel.")
        channel = voice[0]
    else:
        channel = room.find_channel(args.voice_channel)
        if channel.kind != "voice":
            raise HubbubError(f"#{channel.name} in {room.name} is not a voice channel.")
    if args.voice_play is not None and not args.voice_play.is_file():
        raise HubbubError(f"There is no file {args.voice_play} to play.")
    return BotPlan(room.id, channel.id, args.voice_play, args.voice_record, args.voice_loop)


def start_bot(service: NodeService, plan: BotPlan) -> None:
    """Join the channel with a file backend; the recording is written when the node stops."""
    try:
        backend = FileBackend(plan.play, plan.record, loop=plan.loop)
    except BackendError as exc:
        text = str(exc)
        raise HubbubError(text[0].upper() + text[1:] + ".") from exc
    service.voice.backend_factory = lambda: backend
    service.voice.join(plan.room_id, plan.channel_id)
