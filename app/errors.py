"""The one error type the node reports to people: `HubbubError`, whose message is a sentence for a user."""

from __future__ import annotations


class HubbubError(Exception):
    """A failure with a message fit to show a user as is."""


class ProfileError(HubbubError):
    """The profile folder is missing, unreadable or damaged."""


class RoomNotFound(HubbubError):
    """No room matches what the user named."""


class BadInvite(HubbubError):
    """An invite link that is malformed, expired, used or for another room."""


class BadFile(HubbubError):
    """A file to import that is corrupt or not a Hubbub log."""


def as_sentence(clause: str) -> str:
    """A lower-layer error clause ("the disk is full; nothing was written") made a sentence for a user."""
    text = clause.strip()
    if not text:
        return "Something went wrong."
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."
