"""When a new message deserves a desktop notification, and what it says."""

from __future__ import annotations

from app.models import Message


def should_notify(msg: Message, me: str, *, focused: bool, direct: bool) -> bool:
    """A message from someone else that mentions me or arrives in a direct room, while the window is unfocused."""
    if focused or msg.deleted or msg.author == me:
        return False
    return direct or me in msg.mentions


def notification_text(author: str, room: str, channel: str, text: str, *, direct: bool) -> tuple[str, str]:
    """The (title, body) of a notification: who wrote where, and the start of the message."""
    title = author if direct else f"{author} in {room} #{channel}"
    body = " ".join(text.split())
    if len(body) > 140:
        body = body[:139] + "…"
    return title, body
