"""When a new message deserves a desktop notification, what counts as mentioning me, what the tray counts, and what it says.

The settings themselves (levels, mutes, do not disturb, keywords) are `app.notify_prefs.NotifyPrefs`,
kept in the profile; `Attention` applies them to a room's messages for the session.
"""

from __future__ import annotations

from app.models import Message, Role
from app.notify_prefs import ALL, MENTIONS, NOTHING, NotifyPrefs
from app.room import Room


def should_notify(msg: Message, me: str, *, focused: bool, direct: bool, level: str | None = None,
                  mentioned: bool | None = None, dnd: bool = False) -> bool:
    """A message from someone else, while the window is unfocused and do not disturb is off, that the channel's level
    lets through: any message (level all; a direct room's default), or one that mentions me (mentions; the default)."""
    if focused or dnd or msg.deleted or msg.author == me:
        return False
    level = level or (ALL if direct else MENTIONS)
    if level == NOTHING:
        return False
    if level == ALL:
        return True
    return bool(mentioned) if mentioned is not None else me in msg.mentions


def tray_count(level: str, unread: int, mentions: int) -> int:
    """What a channel adds to the tray's count: its unread messages (level all), its unread mentions (mentions), or nothing."""
    return unread if level == ALL else mentions if level == MENTIONS else 0


class Attention:
    """The notification settings applied to one person's view of the rooms."""

    def __init__(self, prefs: NotifyPrefs, me: str) -> None:
        self.prefs = prefs
        self.me = me

    def level(self, room: Room, channel: str) -> str:
        return self.prefs.level(room.id, channel, direct=room.is_direct())

    def moderators(self, room: Room) -> set[str]:
        """Short ids of the members whose @everyone and @here count."""
        return {m.short for m in room.members() if m.role >= Role.MODERATOR}

    def mentions_me(self, msg: Message, moderators: set[str]) -> bool:
        if msg.author == self.me or msg.deleted:
            return False
        return self.prefs.mentions_me(msg.text, msg.mentions, self.me, author_may_mention_all=msg.author in moderators,
                                      ts_ms=msg.ts)


def notification_text(author: str, room: str, channel: str, text: str, *, direct: bool) -> tuple[str, str]:
    """The (title, body) of a notification: who wrote where, and the start of the message."""
    title = author if direct else f"{author} in {room} #{channel}"
    body = " ".join(text.split())
    if len(body) > 140:
        body = body[:139] + "…"
    return title, body
