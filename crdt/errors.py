"""The error hierarchy of the room layer: every failure it reports is a `RoomError`."""

from __future__ import annotations


class RoomError(Exception):
    """Base class: something about a room, an entry or a store went wrong."""


class DecodeError(RoomError):
    """Bytes that do not parse as what they claim to be (hostile or corrupt input)."""


class InvalidEntry(RoomError):
    """An entry that parses but breaks a validation rule; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreError(RoomError):
    """The on-disk store cannot be opened, read or written."""


class NotAMember(RoomError):
    """The local identity may not write to this room."""


class PermissionDenied(RoomError):
    """The local identity lacks the role an operation needs."""


class UnknownMessage(RoomError):
    """A message id that is not in the room."""
