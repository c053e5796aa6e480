"""Hubbub's peer-to-peer layer: discovery, signed signaling, authenticated aiortc sessions.

The package deals in bytes and pynacl keys only; it never imports `crdt`, `app` or `ui`.
`PeerNode` is imported on first use (PEP 562), so `p2p.relay`'s server, which must not load
aiortc or zeroconf, can import this package.
The app uses `PeerNode` (see `p2p.node`) and the event dataclasses in `p2p.events`; new routes
plug in through `p2p.routes` (discovery sources, signaling paths, ICE servers).
"""

from typing import TYPE_CHECKING, Any

from p2p.config import Limits, Timings
from p2p.errors import (
    AuthError,
    BannedError,
    FrameError,
    NotConnectedError,
    NotSharedError,
    P2PError,
    SignalingError,
)
from p2p.events import (
    PeerBanned,
    PeerConnected,
    PeerDisconnected,
    PeerEvent,
    Received,
    RoomMatched,
    RoomUnmatched,
)
from p2p.rooms import PublicRoom, PublicRoomSeen, RoomSecret
from p2p.routes import Address, DiscoverySource, Hint, IceServer, SignalingPath

if TYPE_CHECKING:
    from p2p.node import PeerNode


def __getattr__(name: str) -> Any:
    if name == "PeerNode":
        from p2p.node import PeerNode

        return PeerNode
    raise AttributeError(f"module 'p2p' has no attribute {name!r}")


__all__ = [
    "Address",
    "AuthError",
    "BannedError",
    "DiscoverySource",
    "FrameError",
    "Hint",
    "IceServer",
    "Limits",
    "NotConnectedError",
    "NotSharedError",
    "P2PError",
    "PeerBanned",
    "PeerConnected",
    "PeerDisconnected",
    "PeerEvent",
    "PeerNode",
    "PublicRoom",
    "PublicRoomSeen",
    "Received",
    "RoomMatched",
    "RoomSecret",
    "RoomUnmatched",
    "SignalingError",
    "SignalingPath",
    "Timings",
]
