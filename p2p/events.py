"""Events a PeerNode reports to the app, as documented dataclasses (aioquic style)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerConnected:
    """A session with `peer` (its Ed25519 public key) is open and authenticated."""

    peer: bytes


@dataclass(frozen=True)
class PeerDisconnected:
    """The session with `peer` ended (it left, went silent, was replaced or was banned)."""

    peer: bytes
    reason: str


@dataclass(frozen=True)
class RoomMatched:
    """`peer` proved it holds a secret for `room_id`; labels say which secret on each side."""

    peer: bytes
    room_id: bytes
    my_label: str
    their_label: str


@dataclass(frozen=True)
class RoomUnmatched:
    """A match with `peer` ended because one side dropped that secret."""

    peer: bytes
    room_id: bytes
    my_label: str
    their_label: str


@dataclass(frozen=True)
class Received:
    """`payload` arrived from `peer` on `channel` (sync/live/voice/files) for `room_id`."""

    peer: bytes
    channel: str
    room_id: bytes | None
    payload: bytes


@dataclass(frozen=True)
class PeerBanned:
    """`peer` was disconnected and is kept out for a while."""

    peer: bytes
    reason: str


PeerEvent = PeerConnected | PeerDisconnected | RoomMatched | RoomUnmatched | Received | PeerBanned
