"""A room's message operations: post, edit, delete, react, pin and forward, with the mentions a text makes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from crdt.schema import DELETES, EDITS, MESSAGES, PINS, REACTIONS, Role, short_id

from .errors import HubbubError
from .room_reads import now_ms
from .room_writes import RoomWrites

HIDDEN_CHANNELS = frozenset(("~profile",))  # channels nobody creates, never listed: avatars (app/files/profile_pictures.py)
MENTION = re.compile(r"(?<![\w@])@([\w.\-]{1,64})")
GROUP_MENTIONS = ("everyone", "here")  # @everyone and @here, kept in a message's mentions as "@everyone", "@here"


class RoomMessages(RoomWrites):
    """What a member does to messages in a `Room` (app/room.py)."""

    def post_many(self, channel: str, texts: Iterable[str]) -> list[str]:
        """Post several messages at once, stored in one commit; returns their ids."""
        with self.batch():
            return [self.post(channel, text) for text in texts]

    def _mentions(self, text: str) -> list[str]:
        """Who the text mentions: members by name or id, and @everyone / @here, which only a moderator may use
        (a member's @everyone mentions nobody; receivers also ignore it from anyone below moderator)."""
        if "@" not in text:
            return []
        members = self.members()
        names = {m.name.lower(): m.short for m in members}
        names.update({m.short.lower(): m.short for m in members})
        may_all = (self.my_role() or Role.MEMBER) >= Role.MODERATOR
        out = []
        for token in MENTION.findall(text):
            low = token.lower()
            group = low.rstrip(".-")
            short = ("@" + group if may_all else None) if group in GROUP_MENTIONS else names.get(low)
            if short and short not in out:
                out.append(short)
        return out

    def post(self, channel: str, text: str, *, reply_to: str | None = None, thread: str | None = None,
             ttl: float | None = None, forward: dict[str, Any] | None = None,
             attachments: list[dict[str, Any]] | None = None) -> str:
        if not text.strip() and forward is None and not attachments:
            raise HubbubError("A message cannot be empty.")
        if len(text) > 16_000:
            raise HubbubError("A message can be at most 16000 characters.")
        cid = channel if channel in HIDDEN_CHANNELS else self.find_channel(channel).id
        value: dict[str, Any] = {"c": cid, "t": text, "ts": now_ms()}
        if reply_to:
            target = self.message(reply_to)
            value["r"] = target.id
            if thread is None and target.thread:
                value["th"] = target.thread
        if thread:
            value["th"] = self.message(thread).id
        if ttl:
            value["ttl"] = float(ttl)
        if forward:
            value["f"] = forward
        if attachments:
            value["a"] = attachments  # file manifests (app/files/manifest.py; rules in crdt/attachments.py)
        mentions = self._mentions(text)
        if mentions:
            value["mn"] = mentions
        return self._write(MESSAGES, value)

    def edit(self, message_id: str, text: str) -> str:
        msg = self.message(message_id)
        if msg.deleted:
            raise HubbubError("A deleted message cannot be edited.")
        if not text.strip():
            raise HubbubError("An edit cannot be empty; delete the message instead.")
        return self._write(EDITS, {"m": msg.id, "t": text, "ts": now_ms()})

    def delete(self, message_id: str) -> str:
        msg = self.message(message_id)
        if msg.deleted:
            raise HubbubError("That message is already deleted.")
        mine = short_id(self.me)
        removable = [msg.id] + [e.eid for e in msg.edits[1:] if e.by == mine or (self.my_role() or Role.MEMBER) >= Role.MODERATOR]
        return self._write(DELETES, {"m": msg.id, "c": msg.channel, "ots": msg.ts, "ts": now_ms()}, delete=removable)

    def react(self, message_id: str, emoji: str) -> str | None:
        msg = self.message(message_id)
        if not emoji or len(emoji) > 32:
            raise HubbubError("A reaction must be one emoji.")
        if short_id(self.me) in msg.reactions.get(emoji, []):
            return None
        return self._write(REACTIONS, {"m": msg.id, "e": emoji})

    def unreact(self, message_id: str, emoji: str) -> None:
        msg = self.message(message_id)
        ids = msg.reaction_ids.get((emoji, short_id(self.me)), [])
        if not ids:
            return
        self._delete_items(ids)

    def toggle_reaction(self, message_id: str, emoji: str) -> None:
        msg = self.message(message_id)
        if short_id(self.me) in msg.reactions.get(emoji, []):
            self.unreact(message_id, emoji)
        else:
            self.react(message_id, emoji)

    def pin(self, message_id: str) -> str | None:
        msg = self.message(message_id)
        if msg.pinned:
            return None
        return self._write(PINS, {"m": msg.id, "ts": now_ms()})

    def unpin(self, message_id: str) -> None:
        msg = self.message(message_id)
        if msg.pin_ids:
            self._delete_items(msg.pin_ids)

    def forward(self, message_id: str, target: RoomMessages, channel: str = "general") -> str:
        msg = self.message(message_id)
        if msg.deleted:
            raise HubbubError("A deleted message cannot be forwarded.")
        provenance = {"room": self.name, "room_id": self.id.hex()[:16], "id": msg.id,
                      "author": self.name_of(msg.author), "ts": msg.ts}
        return target.post(channel, msg.text, forward=provenance)
