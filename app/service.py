"""The running node: its rooms kept in sync with peers, joins, direct rooms, presence and public rooms.

`NodeService` wires small parts together and routes peer events to them; each part keeps its own
state and has one concern (docs/architecture.md, "The map"):

* `RoomSync` (app/room_sync.py): per-(peer, room) sync and fan-out, durability gating, strikes;
* `Joins` (app/joins.py): invites, admitting joiners, grants, refusals;
* `DirectRooms` (app/direct.py): rooms of two, pushed inside a shared room;
* `PresenceBook` (app/presence.py): status, idleness, typing, live signals;
* `PublicRooms` (app/public_rooms.py): the LAN's public rooms, ours and theirs;
* `Housekeeping` (app/housekeeping.py): expiry, snapshots, due key rotations, the periodic looks;
* `Files` (app/files/part.py): files and pictures: attaching, fetching from any holder, serving, removal;
* `Relays` (app/relay/part.py): relays in use: rendezvous tokens, TURN, the mailbox route.

Everything runs on one asyncio loop; peer events are handled as they happen (no queue hop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crdt.entry import Entry
from p2p.aio import async_cancel
from p2p.config import Timings
from p2p.errors import P2PError
from p2p.events import PeerEvent
from p2p.node import PeerNode
from p2p.relay.config import RelayTimings
from p2p.rooms import PublicRoom, PublicRoomSeen, RoomSecret

from .direct import DirectRooms
from .durability import DurabilityGate
from .files.part import Files
from .housekeeping import Housekeeping
from .invite import Invite
from .joins import Joins
from .node import Node
from .peer_events import EventRouter, room_secrets
from .presence import PresenceBook
from .public_rooms import PublicRooms
from .relay.part import Relays
from .room import Room
from .room_sync import RoomSync
from .service_types import ServiceListeners, call_all

if TYPE_CHECKING:
    from .voice.session import VoiceService

log = logging.getLogger(__name__)


def timings_for_tests() -> Timings:
    """Shortened peer timings for tests (re-exported so tests of the UI need not import p2p)."""
    return Timings.for_tests()


class NodeService:
    """A node's rooms kept in sync with its peers."""

    def __init__(self, node: Node, *, bind_host: str = "0.0.0.0", port: int = 0, mdns: bool = True,
                 timings: Timings | None = None, relay_timings: RelayTimings | None = None) -> None:
        self.node = node
        self.peer = PeerNode(node.profile.identity, bind_host=bind_host, port=port, mdns=mdns, timings=timings,
                             queue_events=False)
        self.listeners = ServiceListeners()
        self.disk = DurabilityGate(node.profile.store)
        self.rooms_sync = RoomSync(node, self.peer, self.disk, control_changed=self._control_changed,
                                   progressed=lambda room: self.joins.check_done(room))
        self.presence_book = PresenceBook(self.peer, self.listeners, node.profile.public_key,
                                          lambda: node.profile.display_name)
        self.joins = Joins(node, self.peer, self.rooms_sync, self.listeners, room_added=self.room_added,
                           refresh_secrets=self.refresh_secrets)
        self.direct = DirectRooms(node, self.peer, self.rooms_sync, self.presence_book, self.room_added)
        self.public = PublicRooms(node, self.peer, self.listeners)
        self.chores = Housekeeping(node, self.peer, self.presence_book, self.public, self.refresh_secrets)
        self.files = Files(node, self.peer, self.rooms_sync.may_receive)
        self.peer.add_listener(self.files.on_event)
        self.relays = Relays(node, self.peer, self.joins, timings=relay_timings,
                             changed=lambda: call_all(self.listeners.relays))
        self.router = EventRouter(node, self.peer, self.listeners, self.rooms_sync, self.joins, self.direct,
                                  self.presence_book)
        self.peer.add_listener(self.router.on_event)
        self._tasks: list[asyncio.Task[None]] = []
        self._hooked: set[bytes] = set()
        self._control_seen: dict[bytes, object] = {}
        self._refresh_soon = False
        self.started_at = 0.0
        self._voice: VoiceService | None = None

    # Views of the parts' state that the app, the UI and tests read.
    @property
    def stats(self) -> dict[str, int]:
        return self.rooms_sync.stats

    @property
    def invalid(self) -> dict[bytes, int]:
        return self.rooms_sync.invalid

    @property
    def idle_after(self) -> float:
        return self.presence_book.idle_after

    @idle_after.setter
    def idle_after(self, seconds: float) -> None:
        self.presence_book.idle_after = seconds

    # ----- lifecycle ----------------------------------------------------------------------

    async def async_start(self) -> None:
        self.started_at = time.monotonic()
        for room in self.node.open_rooms():
            self._hook(room)
        await self.peer.async_start()
        await self.files.async_start()
        await self.relays.async_start()
        self.refresh_secrets()
        self._tasks = [asyncio.create_task(self.rooms_sync.async_run(), name="hubbub-flush"),
                       asyncio.create_task(self.disk.async_checkpoints(), name="hubbub-checkpoint"),
                       asyncio.create_task(self.chores.async_chores(), name="hubbub-housekeeping"),
                       asyncio.create_task(self.chores.async_watch(), name="hubbub-watch")]
        log.info("node %s listening on %s:%d", self.node.profile.public_key.hex()[:16], *self.peer.address)

    @property
    def voice(self) -> VoiceService:
        """This node's voice channels and calls (created on first use; see app/voice/session.py)."""
        if self._voice is None:
            from .voice.session import VoiceService

            self._voice = VoiceService(self)
        return self._voice

    async def async_stop(self) -> None:
        if self._voice is not None:
            self._voice.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            await async_cancel(task)  # cancels again if a cancel was swallowed (p2p/aio.py)
        self._tasks = []
        await self.relays.async_stop()
        await self.disk.async_close()
        await self.files.async_stop()
        await self.peer.async_stop()
        self.joins.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.peer.address

    async def async_connect(self, host: str, port: int) -> bytes:
        return await self.peer.async_connect(host, port)

    # ----- rooms and secrets ------------------------------------------------------------------

    def _hook(self, room: Room) -> None:
        if room.id not in self._hooked:
            self._hooked.add(room.id)
            room.listeners.append(self._on_room_entries)
            self.files.hook(room)

    def room_added(self, room: Room) -> None:
        """Call after creating or joining a room so peers learn of it."""
        self._hook(room)
        self.refresh_secrets()
        call_all(self.listeners.rooms)

    def refresh_secrets(self) -> None:
        """Tell the peer layer which rooms, invites and joins we can prove, and which rooms to announce."""
        secrets: list[RoomSecret] = []
        public: list[PublicRoom] = []
        for room in self.node.open_rooms():
            self._hook(room)
            secrets.extend(room_secrets(room))
            secrets.extend(self.joins.room_secrets(room))
            announced = self.public.announcement(room)
            if announced is not None:
                public.append(announced)
        secrets.extend(self.joins.join_secrets())
        self.peer.set_secrets(secrets)
        self.peer.set_public_rooms(public)
        self.relays.refresh()

    def _control_changed(self, room: Room) -> None:
        self.refresh_secrets()

    def _on_room_entries(self, room: Room, entries: list[Entry]) -> None:
        state = room.log.state()  # a new object whenever the control state was resolved again
        if self._control_seen.get(room.id) is not state:
            # Local control writes (public on/off, invites, removals) change what we prove and announce.
            # Deferred: an admission writes the joiner's `add` and must still send the grant over the
            # invite match, which refreshing at once would end.
            self._control_seen[room.id] = state
            if not self._refresh_soon:
                self._refresh_soon = True
                try:
                    asyncio.get_running_loop().call_soon(self._deferred_refresh)
                except RuntimeError:  # no loop running (not started): nothing to keep in order
                    self._deferred_refresh()
        call_all(self.listeners.entries, room, entries)
        self.rooms_sync.announce(room, entries)
        self.relays.on_entries(room, entries)

    def _deferred_refresh(self) -> None:
        self._refresh_soon = False
        self.refresh_secrets()

    def create_room(self, name: str) -> Room:
        room = self.node.create_room(name)
        self.room_added(room)
        return room

    def create_invite(self, room: Room, valid_seconds: float | None = 7 * 24 * 3600, uses: int = 1) -> Invite:
        invite = self.node.invite(room, valid_seconds, uses)
        self.refresh_secrets()
        return invite

    # ----- what the parts offer, as the app and the UI call it ---------------------------------

    async def async_join(self, link: str, timeout: float = 30.0,
                         progress: Callable[[str, float, int], None] | None = None) -> Room:
        """Join through an invite link, via any member online."""
        return await self.joins.async_join(link, timeout, progress)

    async def async_join_public(self, room_id: bytes, timeout: float = 30.0) -> Room:
        return await self.joins.async_join_public(room_id, timeout)

    def public_rooms(self) -> list[PublicRoomSeen]:
        return self.public.seen()

    def direct_room_with(self, peer: bytes) -> Room | None:
        return self.direct.room_with(peer)

    def direct_rooms_with(self, peer: bytes) -> list[Room]:
        return self.direct.rooms_with(peer)

    async def async_open_dm(self, peer: bytes) -> Room:
        return await self.direct.async_open(peer)

    def set_typing(self, room: Room, channel: str, typing: bool = True) -> None:
        self.presence_book.set_typing(room, channel, typing)

    def set_status(self, status: str) -> None:
        self.presence_book.set_status(status)

    def note_activity(self) -> None:
        self.presence_book.note_activity()

    def send_live(self, room_id: bytes | None, payload: dict[str, Any], to: bytes | None = None) -> None:
        self.presence_book.send_live(room_id, payload, to)

    def send_voice(self, peer: bytes, room_id: bytes | None, packet: bytes) -> None:
        with contextlib.suppress(P2PError, ValueError):
            self.peer.send(peer, "voice", room_id, packet)

    def typing_in(self, room_id: bytes, channel: str) -> list[bytes]:
        return self.presence_book.typing_in(room_id, channel)

    def status_of(self, peer: bytes) -> str:
        return self.presence_book.status_of(peer)

    def _check_public_rooms(self) -> None:
        self.public.check_changed()

    def _handle(self, event: PeerEvent) -> None:
        self.router.handle(event)
