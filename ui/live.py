"""`NetworkService`: the window's `LiveService` over a running `app.service.NodeService` (LAN sync, presence, typing, joins, voice).

Every callback the NodeService runs arrives on the asyncio loop, which under qasync is the Qt thread,
so this class forwards them straight to the session's callbacks; nothing here blocks or sleeps.
Typing signals expire without an event, so a timer re-announces "typing" when the newest one lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.errors import HubbubError
from app.models import short_id
from app.presence import TYPING_SECONDS
from app.room import Room
from app.service import NodeService

from .services import WEEK, ChangeCallback, EntriesCallback, PublicRoom
from .state.routes import SessionLike

if TYPE_CHECKING:
    from app.voice.session import VoiceService

log = logging.getLogger(__name__)


class NetworkService:
    """Presence, typing, the LAN room browser, joining and voice, read from a NodeService."""

    def __init__(self, service: NodeService) -> None:
        self.service = service
        self.node = service.node
        self.me = service.node.profile.public_key
        self.started = False
        self.start_error: str | None = None
        self._callbacks: list[ChangeCallback] = []
        self._entry_callbacks: list[EntriesCallback] = []
        self._typing_timer: asyncio.TimerHandle | None = None
        listeners = service.listeners
        listeners.presence.append(lambda peer, status: self._emit("presence"))
        listeners.peers.append(lambda: self._emit("presence"))
        listeners.typing.append(self._on_typing)
        listeners.rooms.append(lambda: self._emit("rooms"))
        listeners.entries.append(self._on_entries)
        listeners.public_rooms.append(lambda: self._emit("public"))

    # ----- lifecycle ---------------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Start listening, discovery and sync; a failure is kept as a sentence (the app still works offline)."""
        try:
            await self.service.async_start()
        except (OSError, HubbubError) as exc:
            self.start_error = f"Networking could not start: {exc}"
            log.warning("%s", self.start_error)
            self._emit("presence")
            return
        self.started = True
        self._emit("presence")

    async def async_stop(self) -> None:
        if self._typing_timer is not None:
            self._typing_timer.cancel()
        if self.started:
            self.started = False
            with contextlib.suppress(Exception):
                await self.service.async_stop()

    # ----- LiveService --------------------------------------------------------------------------------

    def presence(self, room_id: bytes) -> dict[str, str]:
        try:
            members = self.node.room(room_id).members()
        except HubbubError:
            return {}
        return {m.short: self.service.status_of(m.key) for m in members}

    def typing(self, room_id: bytes, channel: str) -> list[str]:
        return [short_id(k) for k in self.service.typing_in(room_id, channel) if k != self.me]

    def set_typing(self, room_id: bytes, channel: str, typing: bool = True) -> None:
        if self.started:
            with contextlib.suppress(HubbubError):
                self.service.set_typing(self.node.room(room_id), channel, typing)

    def relay_status(self) -> list[dict[str, Any]] | None:
        return self.service.relays.status() if self.started else []

    def sessions(self) -> Mapping[bytes, SessionLike]:
        if not self.started:
            return {}
        peer = self.service.peer
        return {key: session for key in peer.peers() if (session := peer.session(key)) is not None}

    def public_rooms(self) -> list[PublicRoom]:
        if not self.started:
            return []
        return [PublicRoom(r.room_id, r.name, tuple(r.tags), r.member_count, owner_key=r.owner_key,
                           owner_name=r.owner_name, announcer_key=r.announcer_key)
                for r in self.service.public_rooms()]  # one per announcement; the browser tells them apart

    async def join(self, link: str) -> bytes:
        self._need_network()
        room = await self.service.async_join(link)
        return room.id

    async def join_public(self, room_id: bytes) -> bytes:
        self._need_network()
        room = await self.service.async_join_public(room_id)
        return room.id

    def subscribe(self, callback: ChangeCallback) -> None:
        self._callbacks.append(callback)

    def subscribe_entries(self, callback: EntriesCallback) -> None:
        self._entry_callbacks.append(callback)

    def create_room(self, name: str) -> Room:
        return self.service.create_room(name)

    def invite_link(self, room: Room, valid_seconds: float | None = WEEK, uses: int = 1) -> str:
        invite = self.node.invite(room, valid_seconds, uses=uses)
        self.service.refresh_secrets()  # offer it to joiners at once (what NodeService.create_invite does)
        return invite.link()

    async def open_dm(self, peer: bytes) -> bytes:
        existing = self.service.direct_room_with(peer)
        if existing is not None and not self.started:
            return existing.id
        self._need_network()
        return (await self.service.async_open_dm(peer)).id

    def note_activity(self) -> None:
        self.service.note_activity()

    @property
    def voice(self) -> VoiceService | None:
        return self.service.voice if self.started else None

    # ----- internals ------------------------------------------------------------------------------------

    def _need_network(self) -> None:
        if not self.started:
            raise HubbubError(self.start_error or "Networking is still starting; try again in a moment.")

    def _emit(self, what: str) -> None:
        for cb in list(self._callbacks):
            try:
                cb(what)
            except Exception:
                log.exception("live callback failed")

    def _on_entries(self, room: Room, entries: list[Any]) -> None:
        for cb in list(self._entry_callbacks):
            try:
                cb(room, entries)
            except Exception:
                log.exception("entries callback failed")

    def _on_typing(self, room_id: bytes, channel: str, peer: bytes, on: bool) -> None:
        self._emit("typing")
        if on:  # nobody says when typing lapses: look again just after it would
            if self._typing_timer is not None:
                self._typing_timer.cancel()
            with contextlib.suppress(RuntimeError):
                loop = asyncio.get_running_loop()
                self._typing_timer = loop.call_later(TYPING_SECONDS + 0.1, self._emit, "typing")
