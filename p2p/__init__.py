"""Hubbub's peer-to-peer layer: discovery, signed signaling, authenticated aiortc sessions.

The package deals in bytes and pynacl keys only; it never imports `crdt`, `app` or `ui`.
The app uses `PeerNode` (see `p2p.node`) and the event dataclasses in `p2p.events`; new routes
plug in through `p2p.routes` (discovery sources, signaling paths, ICE servers).
"""

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
from p2p.node import PeerNode
from p2p.rooms import PublicRoom, PublicRoomSeen, RoomSecret
from p2p.routes import Address, DiscoverySource, Hint, IceServer, SignalingPath

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
