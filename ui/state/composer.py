"""The composer's logic: send, reply or edit mode, Up-to-edit, and `@` mention completion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QObject, Signal

from app.errors import HubbubError
from app.models import Message

MENTION_AT_CURSOR = re.compile(r"(?:^|(?<=[\s(]))@([\w.\-]{0,64})$")


class Mode(Enum):
    SEND = "send"
    REPLY = "reply"
    EDIT = "edit"


@dataclass(frozen=True, slots=True)
class Completion:
    """A member offered by `@` completion."""

    name: str
    short: str


def mention_query(text: str, cursor: int) -> str | None:
    """The partial name after an `@` that ends at the cursor, or None when the cursor is not in a mention."""
    m = MENTION_AT_CURSOR.search(text[:cursor])
    return m.group(1) if m else None


def complete_mention(text: str, cursor: int, name: str) -> tuple[str, int]:
    """Replace the partial mention before the cursor with `@name `; returns the new text and cursor."""
    m = MENTION_AT_CURSOR.search(text[:cursor])
    if m is None:
        return text, cursor
    token = "@" + name.replace(" ", "_") + " "
    start = m.start(1) - 1
    new = text[:start] + token + text[cursor:]
    return new, start + len(token)


def candidates(members: list[Completion], query: str, limit: int = 8) -> list[Completion]:
    """Members whose name or short id starts with (then contains) the query."""
    q = query.lower()
    starts = [m for m in members if m.name.lower().startswith(q) or m.short.lower().startswith(q)]
    inside = [m for m in members if m not in starts and q in m.name.lower()]
    return (starts + inside)[:limit]


def last_own_message(messages: list[Message], me: str) -> Message | None:
    """My newest message that can still be edited, among `messages` (oldest first; thread replies are not the channel's)."""
    for msg in reversed(messages):
        if msg.author == me and not msg.deleted and not msg.forward and not (msg.thread and msg.thread != msg.id):
            return msg
    return None


class ComposerState(QObject):
    """What pressing Enter will do: send a new message, send a reply, or save an edit."""

    mode_changed = Signal()
    error = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.mode = Mode.SEND
        self.target: Message | None = None
        self.ttl: float | None = None  # seconds after which messages sent from here disappear (None: they stay)
        self.thread_root: str | None = None  # the root of the thread this composer answers in (None: the channel)

    def start_reply(self, msg: Message) -> None:
        self.mode, self.target = Mode.REPLY, msg
        self.mode_changed.emit()

    def start_edit(self, msg: Message) -> None:
        self.mode, self.target = Mode.EDIT, msg
        self.mode_changed.emit()

    def cancel(self) -> bool:
        """Leave reply or edit mode; returns whether there was anything to cancel."""
        if self.mode is Mode.SEND:
            return False
        self.mode, self.target = Mode.SEND, None
        self.mode_changed.emit()
        return True

    def submit(self, room: object, channel: str, text: str) -> bool:
        """Send, reply or save the edit in `room` (an app Room); returns True when done, False on an error (emitted)."""
        if not text.strip():
            return False
        try:
            if self.mode is Mode.EDIT and self.target is not None:
                if text != self.target.text:
                    room.edit(self.target.id, text)  # type: ignore[attr-defined]
            elif self.mode is Mode.REPLY and self.target is not None:
                room.post(channel, text, reply_to=self.target.id, ttl=self.ttl, thread=self.thread_root)  # type: ignore[attr-defined]
            else:
                room.post(channel, text, ttl=self.ttl, thread=self.thread_root)  # type: ignore[attr-defined]
        except HubbubError as exc:
            self.error.emit(str(exc))
            return False
        self.cancel()
        return True
