"""hubbub:// links as the desktop opens them: `hubbub://join/...` (an invite) and `hubbub://message/ROOM/MESSAGE`.

A browser hands the desktop app one of these (the desktop entry registers x-scheme-handler/hubbub);
`parse_link` says which kind it is, or raises `BadLink` with a sentence for the user. The invite's
own format and checks are app/invite.py's; a message link names a room by its id in hex and a
message by its id in that room.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import HubbubError
from .invite import SCHEME as JOIN_PREFIX
from .invite import parse_invite

SCHEME = "hubbub://"
MESSAGE_PREFIX = SCHEME + "message/"
MAX_LINK = 4096
_MESSAGE_PATH = re.compile(r"([0-9a-fA-F]{64})/([A-Za-z0-9_:.~-]{1,128})/?")
MESSAGE_LINK_IN_TEXT = re.compile(r"(?i)hubbub://message/[0-9a-f]{64}/[A-Za-z0-9_:.~-]{1,128}")  # one in a message's text


class BadLink(HubbubError):
    """A hubbub:// link that is damaged or of a kind this Hubbub does not know."""


@dataclass(frozen=True, slots=True)
class JoinLink:
    """An invite: the whole link (what the join dialog and `hubbub join` take), and the room it is for."""

    link: str
    room_id: bytes
    room_name: str


@dataclass(frozen=True, slots=True)
class MessageLink:
    """A message in a room: open the room and show the message."""

    room_id: bytes
    message_id: str


Link = JoinLink | MessageLink


def is_link(text: str) -> bool:
    """Whether a command-line argument is a hubbub:// link (rather than a command)."""
    return text.strip().lower().startswith(SCHEME)


def message_link(room_id: bytes, message_id: str) -> str:
    """The link to a message, as `parse_link` reads it."""
    return f"{MESSAGE_PREFIX}{room_id.hex()}/{message_id}"


def parse_link(text: str) -> Link:
    """What a hubbub:// link points to; raises BadLink (or the invite's BadInvite) with a sentence for the user."""
    link = text.strip()
    if len(link) > MAX_LINK:
        raise BadLink("That link is far too long to be a Hubbub link.")
    lowered = link.lower()
    if lowered.startswith(JOIN_PREFIX):
        invite = parse_invite(JOIN_PREFIX + link[len(JOIN_PREFIX):])
        return JoinLink(JOIN_PREFIX + link[len(JOIN_PREFIX):], invite.room_id, invite.room_name)
    if lowered.startswith(MESSAGE_PREFIX):
        match = _MESSAGE_PATH.fullmatch(link[len(MESSAGE_PREFIX):])
        if match is None:
            raise BadLink("That message link is damaged; ask for it again.")
        return MessageLink(bytes.fromhex(match.group(1)), match.group(2))
    if lowered.startswith(SCHEME):
        raise BadLink("Hubbub does not know this kind of link (it opens hubbub://join/ and hubbub://message/ links).")
    raise BadLink("That is not a Hubbub link (it should start with hubbub://).")
