"""The seam for how peers are reached: discovery sources give hints, signaling paths carry offers.

A `PeerNode` is built from parts that meet here:

* a **discovery source** (`DiscoverySource`) tells the node where a peer may be, as `Hint`s. mDNS
  is one (`p2p.discovery.MdnsDiscovery`); a relay's rendezvous would be another. A hint is never
  trust: the key that answers is checked, and a target whose key is known accepts only that key.
* a **signaling path** (`SignalingPath`) carries the signaling conversation (HELLO, KNOCK, ADMIT,
  OFFER, ANSWER; see docs/p2p.md) with one peer, in both directions. The LAN TCP endpoint is one
  (`p2p.lan_path.LanPath`); a relay would be another. A path only moves frames: the protocol, the
  admission rules and the signatures are the same whatever the path.
* **ICE servers** (`IceServer`, STUN and TURN) are passed in, always as an explicit list: with
  `iceServers` unset aiortc would add a public Google STUN server by itself.

Sessions are the same aiortc sessions however they were made; the only trace of the route is
`Session.route` ("lan", "direct" or "turn"), for display and metrics. Adding a route means adding
a source and a path (`PeerNode.async_add_source`, `PeerNode.async_add_path`), not editing the node.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Literal, Protocol

from p2p.frames import Frame

Route = Literal["lan", "direct", "turn"]
"""How a session reaches its peer: on the LAN, directly across the internet, or through TURN."""


@dataclass(frozen=True)
class Address:
    """Where a signaling path can reach a peer.

    For the LAN path, `host` and `port` are the peer's signaling endpoint. Another path may need
    more, carried opaquely in `via` (a relay's rendezvous token, say); the node never reads it.
    """

    path: str
    host: str
    port: int
    via: bytes = b""

    def __str__(self) -> str:
        return f"{self.path}:{self.host}:{self.port}"


@dataclass(frozen=True)
class Hint:
    """A discovery source's word that a peer may be reachable at `address`. Never trusted."""

    source: str
    """The source's name ("mdns")."""
    node_id: str
    """The source's name for the peer (on mDNS a random id, new at every start). Hints with one
    node id are candidate addresses of one dial target."""
    address: Address
    peer_key: bytes | None = None
    """The key the source expects to answer, when it knows one; then only that key is accepted."""
    passive: bool = False
    """True when the other side is expected to dial (LAN rule: the smaller node id dials), so this
    node dials only when its rooms change or after a long wait."""
    beacons: bytes = b""
    """Room beacons the announcement carried (p2p.room_tokens.make_beacons): a room-mate's hint
    is recognised, kept and dialed before others."""
    seen_at: float = field(default_factory=time.monotonic, compare=False)
    """When the source last saw it (time.monotonic())."""

    @property
    def host(self) -> str:
        return self.address.host

    @property
    def port(self) -> int:
        return self.address.port


class HintSink(Protocol):
    """What a discovery source reports to (the node's hint table)."""

    def hint_found(self, hint: Hint) -> None:
        """A peer may be at `hint.address` (new, or seen again)."""

    def hint_lost(self, source: str, node_id: str, keep: Collection[Address] = ()) -> None:
        """`source` no longer vouches for `node_id`, except at the addresses in `keep` (addresses
        that still answer). An address with a live session goes only when its session ends."""


class DiscoverySource(Protocol):
    """Something that yields hints about where peers may be."""

    name: str

    async def async_start(self, sink: HintSink) -> None:
        """Start reporting hints to `sink`."""

    async def async_stop(self) -> None:
        """Stop, withdrawing whatever this source announced."""


class Conversation(Protocol):
    """One signaling conversation with one peer: frames in order, both ways, then closed."""

    path: str
    """The name of the path it runs on."""
    route: Route
    """What a session set up through it is, unless ICE ends up on a TURN relay."""
    source: str
    """Who is on the other end for rate limits (an IP address on the LAN)."""

    def send(self, frame: bytes) -> None:
        """Queue one frame."""

    async def async_flush(self) -> None:
        """Wait until queued frames are handed to the network; errors become `FrameError`."""

    async def async_receive(self, timeout: float) -> Frame:
        """The next frame; `FrameError` on bad input, a closed conversation or `timeout`."""

    async def async_close(self) -> None:
        """Close; never raises."""


Inbound = Callable[[Conversation], Awaitable[None]]
"""The node's handler for a conversation a peer opened (it answers, then closes it)."""


class SignalingPath(Protocol):
    """A way to hold signaling conversations with peers, opened by either side."""

    name: str

    async def async_start(self, inbound: Inbound) -> None:
        """Start accepting conversations; each is handed to `inbound`."""

    async def async_stop(self) -> None:
        """Stop accepting and close what is open."""

    async def async_open(self, address: Address, timeout: float) -> Conversation:
        """Open a conversation with whoever is at `address`; `SignalingError` if it cannot."""


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server for ICE, as aiortc's `RTCIceServer` takes it."""

    urls: str
    username: str | None = None
    credential: str | None = None
