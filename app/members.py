"""A room's member named the way a user types one: a display name, a short id (`author` in `history --json`), or a key prefix."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import HubbubError

if TYPE_CHECKING:
    from .room import MemberInfo, Room

MIN_KEY_PREFIX = 4  # hex digits
HEX = re.compile(r"[0-9a-fA-F]+")


def find_member(room: Room, text: str) -> MemberInfo:
    """The one current member that `text` names; raises HubbubError with a sentence when none or several do."""
    text = text.strip()
    if not text:
        raise HubbubError("Name a member: a display name, an author id or the start of their key.")
    members = room.members()
    by_id = [m for m in members if m.short == text]
    if by_id:
        return by_id[0]
    found = {m.key: m for m in members if m.name == text}
    if not found:
        found = {m.key: m for m in members if m.name.casefold() == text.casefold()}
    if len(text) >= MIN_KEY_PREFIX and HEX.fullmatch(text):
        found.update({m.key: m for m in members if m.key.hex().startswith(text.lower())})
    if not found:
        raise HubbubError(f"Nobody in {room.name} is called {text!r}; `hubbub member list` shows the members.")
    if len(found) > 1:
        raise HubbubError(f"{text!r} names {len(found)} members of {room.name}; use their author id or more of their key.")
    return next(iter(found.values()))
