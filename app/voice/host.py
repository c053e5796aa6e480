"""What the voice service needs from the node it runs on: a protocol, so that voice does not import the node service."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.node import Node

LiveListener = Callable[[bytes, bytes | None, dict[str, Any]], None]  # (peer, room_id, payload)
VoiceListener = Callable[[bytes, bytes | None, bytes], None]  # (peer, room_id, packet)
PeersListener = Callable[[], None]  # the set of connected peers changed
SharedListener = Callable[[bytes, bytes], None]  # (peer, room_id) is now shared with that peer


class PeerDirectory(Protocol):
    """The peers this node has an authenticated session with."""

    def peers(self) -> list[bytes]: ...


class HostListeners(Protocol):
    """The node's callback lists that voice appends to (all called on the loop)."""

    @property
    def live(self) -> list[LiveListener]: ...

    @property
    def voice(self) -> list[VoiceListener]: ...

    @property
    def peers(self) -> list[PeersListener]: ...

    @property
    def shared(self) -> list[SharedListener]: ...


class VoiceHost(Protocol):
    """A running node as voice sees it (`app.service.NodeService` is one)."""

    @property
    def node(self) -> Node: ...

    @property
    def peer(self) -> PeerDirectory: ...

    @property
    def listeners(self) -> HostListeners: ...

    def send_live(self, room_id: bytes | None, payload: dict[str, Any], to: bytes | None = None) -> None: ...

    def send_voice(self, peer: bytes, room_id: bytes | None, packet: bytes) -> None: ...
