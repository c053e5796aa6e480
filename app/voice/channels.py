"""Who is in which voice channel: a sans-IO roster built from ephemeral `live` announcements.

Membership is never stored. Each node announces its own state to the peers of a room as
`{"t": "voice", "c": channel_id, "on": true|false, "m": muted, "d": deafened}` when it joins, leaves
or changes mute/deafen, and again to each peer that connects. A peer is in at most one voice
channel; a peer whose session drops is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_CHANNEL_ID = 64


@dataclass(frozen=True)
class VoiceMember:
    """One peer's place in a voice channel, as it last announced it."""

    room_id: bytes
    channel_id: str
    muted: bool = False
    deafened: bool = False


class VoiceRoster:
    """The voice-channel members this node knows of, itself included."""

    def __init__(self, me: bytes) -> None:
        self.me = me
        self.members: dict[bytes, VoiceMember] = {}

    @property
    def mine(self) -> VoiceMember | None:
        """My own place, if I am in a voice channel."""
        return self.members.get(self.me)

    def set_mine(self, member: VoiceMember | None) -> None:
        """Record my own place (None: I left)."""
        if member is None:
            self.members.pop(self.me, None)
        else:
            self.members[self.me] = member

    def announcement(self, member: VoiceMember | None, left: VoiceMember | None = None) -> dict[str, Any]:
        """The live message that announces `member` (or that I left `left`)."""
        if member is not None:
            return {"t": "voice", "c": member.channel_id, "on": True, "m": member.muted, "d": member.deafened}
        assert left is not None
        return {"t": "voice", "c": left.channel_id, "on": False}

    def receive(self, peer: bytes, room_id: bytes | None, msg: dict[str, Any]) -> tuple[bytes, str] | None:
        """Apply a `voice` announcement from `peer`; returns the (room, channel) that changed, if any.

        A peer leaving a channel it was not in changes nothing; malformed messages are ignored.
        """
        channel = msg.get("c")
        if peer == self.me or room_id is None or not isinstance(channel, str) or not 0 < len(channel) <= MAX_CHANNEL_ID:
            return None
        old = self.members.get(peer)
        if msg.get("on") is True:
            new = VoiceMember(room_id, channel, msg.get("m") is True, msg.get("d") is True)
            if old == new:
                return None
            self.members[peer] = new
            return room_id, channel
        if old is not None and old.room_id == room_id and old.channel_id == channel:
            del self.members[peer]
            return room_id, channel
        return None

    def drop(self, peer: bytes) -> tuple[bytes, str] | None:
        """Forget `peer` (its session dropped); returns the channel it was in, if any."""
        old = self.members.pop(peer, None)
        return None if old is None else (old.room_id, old.channel_id)

    def participants(self, room_id: bytes, channel_id: str) -> list[bytes]:
        """Everyone in the channel, me first when I am in it, the rest in key order."""
        inside = sorted(p for p, m in self.members.items() if m.room_id == room_id and m.channel_id == channel_id)
        if self.me in inside:
            inside.remove(self.me)
            inside.insert(0, self.me)
        return inside

    def occupied(self, room_id: bytes) -> dict[str, list[bytes]]:
        """channel id -> participants, for every voice channel of the room that has anyone in it."""
        channels = {m.channel_id for m in self.members.values() if m.room_id == room_id}
        return {c: self.participants(room_id, c) for c in sorted(channels)}

    def others_with_me(self) -> list[bytes]:
        """The peers in my voice channel (the mesh I send to)."""
        mine = self.mine
        if mine is None:
            return []
        return [p for p in self.participants(mine.room_id, mine.channel_id) if p != self.me]
