"""The live-network interface the window reads (presence, typing, public rooms, joining) and its offline default.

The LAN service from app/ will implement `LiveService`; until then `OfflineService` answers as a node
with no peers would. Wiring the real service is: construct it, pass it to `Session`, and have it call
the callbacks registered with `subscribe` (from the Qt thread, which is also the asyncio thread).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from app.errors import HubbubError
from app.invite import parse_invite
from app.node import Node
from app.room import Room

from .state.routes import SessionLike

if TYPE_CHECKING:
    from app.voice.session import VoiceService

ONLINE = "online"
IDLE = "idle"
OFFLINE = "offline"
WEEK = 7 * 24 * 3600.0  # how long an invite link works unless the inviter chooses otherwise

ChangeCallback = Callable[[str], None]  # called with "presence", "typing", "rooms" or "public" (the LAN's public rooms)
EntriesCallback = Callable[[Room, list[Any]], None]  # a room stored new entries (local or from a peer)


@dataclass(frozen=True, slots=True)
class PublicRoom:
    """A public room announced on the LAN, as the room browser lists it."""

    room_id: bytes
    name: str
    tags: tuple[str, ...]
    members: int
    topic: str = ""
    owner_key: bytes = b""
    owner_name: str = ""
    announcer_key: bytes = b""
    """Who signed the announcement; the owner fields and the count are that key's claim."""


class LiveService(Protocol):
    """What the window needs from the network layer."""

    def presence(self, room_id: bytes) -> dict[str, str]:
        """Member short id -> ONLINE, IDLE or OFFLINE."""

    def typing(self, room_id: bytes, channel: str) -> list[str]:
        """Short ids of the members typing in a channel now."""

    def set_typing(self, room_id: bytes, channel: str, typing: bool = True) -> None:
        """Tell peers that I am typing in a channel (or stopped, when `typing` is False)."""

    def public_rooms(self) -> list[PublicRoom]:
        """Public rooms currently announced on the LAN."""

    async def join(self, link: str) -> bytes:
        """Join a room through an invite link; returns its id, or raises HubbubError."""

    async def join_public(self, room_id: bytes) -> bytes:
        """Join a public room found on the LAN."""

    def subscribe(self, callback: ChangeCallback) -> None:
        """Register a callback run whenever presence, typing or the public-room list changes."""

    def subscribe_entries(self, callback: EntriesCallback) -> None:
        """Register a callback run when any room stores new entries, including rooms joined meanwhile."""

    def create_room(self, name: str) -> Room:
        """Create a room and let peers learn of it."""

    def invite_link(self, room: Room, valid_seconds: float | None = WEEK, uses: int = 1) -> str:
        """A fresh `hubbub://` invite link for a room (for `uses` joins, expiring after `valid_seconds`, None: never),
        offered to joiners on the LAN."""

    async def open_dm(self, peer: bytes) -> bytes:
        """The id of my direct room with `peer` (a member of a room we share), created if needed; or HubbubError."""

    def note_activity(self) -> None:
        """The person used the app (a key or the mouse): keeps presence online, and brings it back from idle."""

    def relay_status(self) -> list[dict[str, Any]] | None:
        """The relays the running node uses and their state (`Relays.status`), or None without networking."""

    def sessions(self) -> Mapping[bytes, SessionLike]:
        """The running node's sessions by peer key (what the member list's route marks read); empty without networking."""

    @property
    def voice(self) -> VoiceService | None:
        """Voice channels and calls, or None when this build has no network."""


class OfflineService:
    """The live service of a node without networking: only I am online, nobody types, no rooms are announced."""

    def __init__(self, my_short: str, node: Node | None = None) -> None:
        self.my_short = my_short
        self.node = node
        self._callbacks: list[ChangeCallback] = []

    def presence(self, room_id: bytes) -> dict[str, str]:
        return {self.my_short: ONLINE}

    def relay_status(self) -> list[dict[str, Any]] | None:
        return None

    def sessions(self) -> Mapping[bytes, SessionLike]:
        return {}

    def typing(self, room_id: bytes, channel: str) -> list[str]:
        return []

    def set_typing(self, room_id: bytes, channel: str, typing: bool = True) -> None:
        return None

    def public_rooms(self) -> list[PublicRoom]:
        return []

    async def join(self, link: str) -> bytes:
        parse_invite(link)  # a damaged link gets its own clear sentence
        raise HubbubError("Joining needs a member of the room online on the LAN, and networking is not available in this build yet.")

    async def join_public(self, room_id: bytes) -> bytes:
        raise HubbubError("Joining a public room needs networking, which is not available in this build yet.")

    def subscribe(self, callback: ChangeCallback) -> None:
        self._callbacks.append(callback)

    def subscribe_entries(self, callback: EntriesCallback) -> None:
        return None  # the session follows each room's own listeners

    def create_room(self, name: str) -> Room:
        if self.node is None:
            raise HubbubError("This offline service has no node to create rooms in.")
        return self.node.create_room(name)

    def invite_link(self, room: Room, valid_seconds: float | None = WEEK, uses: int = 1) -> str:
        if self.node is None:
            raise HubbubError("This offline service has no node to make invites with.")
        return self.node.invite(room, valid_seconds, uses=uses).link()

    async def open_dm(self, peer: bytes) -> bytes:
        if self.node is not None:
            for rid, _ in sorted(self.node.room_list()):  # the smaller id, as NodeService.direct_room_with picks
                if self.node.room(rid).direct_peer() == peer:
                    return rid
        raise HubbubError("Starting a direct conversation needs networking, which is not running.")

    def note_activity(self) -> None:
        return None

    @property
    def voice(self) -> VoiceService | None:
        return None

    def emit(self, what: str) -> None:
        """Run the subscribed callbacks (used by tests and fakes)."""
        for cb in list(self._callbacks):
            cb(what)
