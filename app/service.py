"""The running node: rooms kept in sync with peers over p2p sessions, live signals, invites and joins.

Everything runs on one asyncio loop. Peer events come from `PeerNode.events`;
each (peer, room) pair that both sides hold gets a sans-IO `SyncProtocol`, fed
from the `sync` channel and flushed with back-pressure. Entries a room accepts,
local or remote, are stored first (`Room.ingest`) and then announced to every
other peer in that room, which is what spreads history transitively. Entries
from peers are fsynced in a worker thread (`app/durability.py`), and no sync
frame leaves the node while a received entry is not yet on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from p2p.config import Timings
from p2p.errors import P2PError
from p2p.events import PeerBanned, PeerConnected, PeerDisconnected, PeerEvent, Received, RoomMatched, RoomUnmatched
from p2p.node import PeerNode
from p2p.rooms import PublicRoom, PublicRoomSeen, RoomSecret

from crdt.cipher import open_sealed, seal_to_member
from crdt.entry import Entry
from crdt.errors import DecodeError, RoomError
from crdt.sync import EntriesReceived, FrameRejected, SyncProtocol

from .durability import DurabilityGate
from .errors import BadInvite, HubbubError
from .invite import Invite, parse_invite
from .node import Node
from .room import Room, now_ms
from .wire import GRANT, Grant, WireError, decode_live, decode_sync_channel, encode_live, encode_sync, public_secret, room_secret

if TYPE_CHECKING:
    from .voice.session import VoiceService

log = logging.getLogger(__name__)

HIGH_WATER = 1 << 20
TYPING_SECONDS = 6.0
IDLE_AFTER = 300.0        # seconds without `note_activity()` after which we show as idle
WATCH_EVERY = 1.0         # seconds between looks at idleness and the LAN's public rooms
INVALID_ENTRY_BUDGET = 20
COALESCE_SECONDS = 0.003  # a second batch within this time waits this long to join the next one
DIRECT_GRANTS_PER_PEER = 20  # direct rooms one peer may push to us per run of the node


def timings_for_tests() -> Timings:
    """Shortened peer timings for tests (re-exported so tests of the UI need not import p2p)."""
    return Timings.for_tests()


class StoreSource:
    """A `crdt.sync.EntrySource` over a room's stored log."""

    def __init__(self, room: Room) -> None:
        self.room = room

    def heads(self) -> dict[bytes, int]:
        return self.room.log.heads()

    def entries(self, author: bytes, from_seq: int, limit: int) -> list[Entry]:
        return self.room.profile.store.author_entries(self.room.id, author, from_seq, limit)


@dataclass
class _Join:
    invite: Invite | None
    room_id: bytes
    secret: bytes
    label: str
    done: asyncio.Future[bytes]
    granted: bool = False


@dataclass
class Presence:
    status: str  # online, idle, offline
    since: float
    name: str = ""


@dataclass
class ServiceListeners:
    """Callbacks the UI or tests register; all are called on the loop."""

    entries: list[Callable[[Room, list[Entry]], None]] = field(default_factory=list)
    presence: list[Callable[[bytes, str], None]] = field(default_factory=list)
    typing: list[Callable[[bytes, str, bytes, bool], None]] = field(default_factory=list)
    rooms: list[Callable[[], None]] = field(default_factory=list)
    peers: list[Callable[[], None]] = field(default_factory=list)
    live: list[Callable[[bytes, bytes | None, dict[str, Any]], None]] = field(default_factory=list)
    voice: list[Callable[[bytes, bytes | None, bytes], None]] = field(default_factory=list)
    shared: list[Callable[[bytes, bytes], None]] = field(default_factory=list)  # (peer, room_id) now shared
    public_rooms: list[Callable[[], None]] = field(default_factory=list)  # the LAN's public-room list changed


class NodeService:
    """A node's rooms kept in sync with its peers."""

    def __init__(self, node: Node, *, bind_host: str = "0.0.0.0", port: int = 0, mdns: bool = True,
                 timings: Timings | None = None) -> None:
        self.node = node
        self.peer = PeerNode(node.profile.identity, bind_host=bind_host, port=port, mdns=mdns, timings=timings,
                             queue_events=False)
        self.peer.add_listener(self._on_peer_event)
        self.listeners = ServiceListeners()
        self.sync: dict[tuple[bytes, bytes], SyncProtocol] = {}
        self.presence: dict[bytes, Presence] = {}
        self.typing: dict[tuple[bytes, str], dict[bytes, float]] = {}
        self.invalid: dict[bytes, int] = {}
        self._joins: dict[str, _Join] = {}
        self.disk = DurabilityGate(node.profile.store)
        self._flush_pending: set[tuple[bytes, bytes]] = set()
        self._held_for_disk: set[tuple[bytes, bytes]] = set()
        self._flush_wakeup = asyncio.Event()
        self._reheads: dict[tuple[bytes, bytes], float] = {}
        self._inbox: dict[bytes, list[tuple[bytes, list[Entry]]]] = {}
        self._drain_scheduled = False
        self._gc_frozen = False
        self._last_drain = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._hooked: set[bytes] = set()
        self._control_seen: dict[bytes, object] = {}
        self._refresh_soon = False
        self._status = "online"
        self._auto_idle = False  # we are idle because nobody touched the UI, not because someone said so
        self._last_activity: float | None = None  # None until the UI first reports activity (headless stays online)
        self.idle_after = IDLE_AFTER
        self._public_seen: tuple[tuple[bytes, str, tuple[str, ...], int], ...] = ()
        self._direct_grants: dict[bytes, int] = {}
        self.started_at = 0.0
        self.stats = {"entries_in": 0, "entries_out": 0, "rejected": 0}
        self._voice: VoiceService | None = None

    # ----- lifecycle ----------------------------------------------------------------------

    async def async_start(self) -> None:
        self.started_at = time.monotonic()
        for room in self.node.open_rooms():
            self._hook(room)
        await self.peer.async_start()
        self.refresh_secrets()
        self._tasks = [asyncio.create_task(self._flusher(), name="hubbub-flush"),
                       asyncio.create_task(self.disk.async_checkpoints(), name="hubbub-checkpoint"),
                       asyncio.create_task(self._housekeeping(), name="hubbub-housekeeping"),
                       asyncio.create_task(self._watch(), name="hubbub-watch")]
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
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.disk.async_close()
        await self.peer.async_stop()
        for join in self._joins.values():
            if not join.done.done():
                join.done.set_exception(HubbubError("The node stopped before the join finished."))

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

    def room_added(self, room: Room) -> None:
        """Call after creating or joining a room so peers learn of it."""
        self._hook(room)
        self.refresh_secrets()
        for cb in self.listeners.rooms:
            cb()

    def refresh_secrets(self) -> None:
        """Tell the peer layer which rooms, invites and joins we can prove."""
        secrets: list[RoomSecret] = []
        public: list[PublicRoom] = []
        now = now_ms()
        for room in self.node.open_rooms():
            self._hook(room)
            key0 = room.log.keys.get(0)
            if key0 is None:
                continue
            secrets.append(RoomSecret(room.id, room_secret(key0), "room"))
            state = room.log.state()
            if state.role_of(room.me) is None:
                continue
            for iid, inv in state.invites.items():
                if inv.used_by is None and inv.expires_ms > now:
                    secrets.append(RoomSecret(room.id, inv.key, f"invite:{iid}"))
            if state.public:
                secrets.append(RoomSecret(room.id, public_secret(room.id), "public"))
                settings = room.view.settings()
                tags = tuple(str(t) for t in settings.get("tags", []) or [])[:8]
                public.append(PublicRoom(room.id, room.name, tags, len(state.active_members())))
        for join in self._joins.values():
            if not join.granted:
                secrets.append(RoomSecret(join.room_id, join.secret, join.label))
        self.peer.set_secrets(secrets)
        self.peer.set_public_rooms(public)

    def public_rooms(self) -> list[PublicRoomSeen]:
        mine = {rid for rid, _ in self.node.room_list()}
        return [r for r in self.peer.public_rooms() if r.room_id not in mine]

    def create_room(self, name: str) -> Room:
        room = self.node.create_room(name)
        self.room_added(room)
        return room

    def create_invite(self, room: Room, valid_seconds: float = 7 * 24 * 3600) -> Invite:
        invite = self.node.invite(room, valid_seconds)
        self.refresh_secrets()
        return invite

    # ----- joining ------------------------------------------------------------------------------

    async def async_join(self, link: str, timeout: float = 30.0) -> Room:
        """Join through an invite link, via any member online on the LAN."""
        invite = parse_invite(link)
        if invite.expires_ms < now_ms():
            raise BadInvite("That invite has expired; ask for a new one.")
        if self.node.has_room(invite.room_id):
            room = self.node.room(invite.room_id)
            if room.my_role() is not None:
                raise HubbubError(f"You are already a member of {room.name}.")
        label = f"join:{invite.invite_id}"
        return await self._async_join(_Join(invite, invite.room_id, invite.secret, label,
                                            asyncio.get_running_loop().create_future()), timeout)

    async def async_join_public(self, room_id: bytes, timeout: float = 30.0) -> Room:
        """Join a public room seen on the LAN (the room browser's one click)."""
        label = "public-join"
        return await self._async_join(_Join(None, room_id, public_secret(room_id), label,
                                            asyncio.get_running_loop().create_future()), timeout)

    async def _async_join(self, join: _Join, timeout: float) -> Room:
        self._joins[join.label + join.room_id.hex()] = join
        self.refresh_secrets()
        try:
            room_id = await asyncio.wait_for(join.done, timeout)
        except asyncio.TimeoutError as exc:
            if join.invite is not None:  # members stop offering a used invite, so it looks like silence
                raise BadInvite("No member of that room accepted the invite: either none is online on the LAN, "
                                "or the invite was already used.") from exc
            raise HubbubError("No member of that room answered on the LAN; is one of them online?") from exc
        finally:
            self._joins.pop(join.label + join.room_id.hex(), None)
            self.refresh_secrets()
        return self.node.room(room_id)

    def _admit(self, peer: bytes, room: Room, my_label: str, their_label: str) -> None:
        """A joiner proved an invite (or asks to join a public room): add them and send the keys."""
        state = room.log.state()
        existing = state.members.get(peer)
        if existing is None or existing.removed_after is not None:
            try:
                if my_label.startswith("invite:") and their_label == "join:" + my_label[7:]:
                    room.add_member(peer, invite=my_label[7:])
                elif my_label == "public" and their_label == "public-join":
                    room.add_member(peer, public=True)
                else:
                    return
            except HubbubError as exc:
                log.info("not admitting %s: %s", peer.hex()[:12], exc)
                return
            log.info("admitted %s to %s", peer.hex()[:12], room.name)
        sealed = {e: seal_to_member(peer, k) for e, k in room.log.keys.items()}
        with contextlib.suppress(P2PError, ValueError):
            self.peer.send(peer, "sync", room.id, Grant(room.name, sealed).encode())
        self.refresh_secrets()
        self._start_sync(peer, room)

    def _on_grant(self, peer: bytes, room_id: bytes, grant: Grant) -> None:
        if grant.direct:
            self._on_direct_grant(peer, room_id, grant)
            return
        join = next((j for j in self._joins.values() if j.room_id == room_id and not j.granted), None)
        if join is None:
            return
        keys = self._open_grant_keys(peer, grant)
        if keys is None:
            return
        join.granted = True
        store = self.node.profile.store
        store.add_room(room_id, grant.name or (join.invite.room_name if join.invite else "room"), keys)
        room = self.node.room(room_id)
        for epoch, key in keys.items():
            room.log.keys.setdefault(epoch, key)
        self.room_added(room)
        self._start_sync(peer, room)
        self._check_join_done(room)

    def _check_join_done(self, room: Room) -> None:
        if room.my_role() is None:
            return
        for key, join in list(self._joins.items()):
            if join.room_id == room.id and join.granted and not join.done.done():
                if self.node.profile.display_name:
                    with contextlib.suppress(HubbubError):
                        room.set_member_name(self.node.profile.display_name)
                join.done.set_result(room.id)

    # ----- direct messages ---------------------------------------------------------------------------

    def direct_room_with(self, peer: bytes) -> Room | None:
        """Our direct room with `peer`, if there is one.

        If both people opened one at the same moment there are two; both sides pick the one
        with the smaller id, so the conversation continues in one room.
        """
        rooms = self.direct_rooms_with(peer)
        return rooms[0] if rooms else None

    def direct_rooms_with(self, peer: bytes) -> list[Room]:
        """Every direct room of just us and `peer`, the one in use (see `direct_room_with`) first."""
        pair = {self.node.profile.public_key, peer}
        return sorted((room for room in self.node.open_rooms()
                       if room.is_direct() and set(room.log.state().active_members()) == pair),
                      key=lambda room: room.id)

    def shared_with(self, peer: bytes) -> list[Room]:
        """Rooms that `peer` proved it holds on its session and where both of us are current members."""
        proven = self.peer.shared_rooms(peer)
        return [room for room in self.node.open_rooms()
                if room.id in proven and room.my_role() is not None and self._may_receive(peer, room)]

    def peer_name(self, peer: bytes) -> str:
        """What `peer` calls itself: its name in a room we share, or in its presence signal."""
        for room in self.node.open_rooms():
            member = room.log.state().members.get(peer)
            if member is not None and member.name:
                return member.name
        presence = self.presence.get(peer)
        return presence.name if presence and presence.name else peer.hex()[:8]

    async def async_open_dm(self, peer: bytes) -> Room:
        """Our direct room with a connected peer we share a room with, created (and pushed to them) if needed."""
        me = self.node.profile.public_key
        if peer == me:
            raise HubbubError("You cannot start a direct message with yourself.")
        name = self.peer_name(peer)
        existing = self.direct_room_with(peer)
        if existing is not None:
            if peer in self.peer.peers() and existing.id not in self.peer.shared_rooms(peer):
                with contextlib.suppress(HubbubError):  # they may have missed it; a second grant is ignored if not
                    self._push_direct(peer, existing)
            return existing
        if peer not in self.peer.peers():
            raise HubbubError(f"{name} is offline, so a direct conversation cannot start now; try again when they are online.")
        if not self.shared_with(peer):
            raise HubbubError(f"You can only message people you share a room with, and you share none with {name} yet.")
        mine = self.node.profile.display_name or me.hex()[:8]
        room = self.node.create_room(f"{mine} & {name}"[:100])
        room.update_settings(direct=True)
        room.add_member(peer, name=name)
        self.room_added(room)
        self._push_direct(peer, room)
        log.info("opened a direct room with %s", peer.hex()[:12])
        return room

    def _push_direct(self, peer: bytes, room: Room) -> None:
        """Send `peer` the keys of a direct room, inside a room we already share (the only rooms a session carries)."""
        via = self.shared_with(peer)
        if not via:
            raise HubbubError("That person no longer shares a room with you, so the conversation cannot reach them.")
        sealed = {e: seal_to_member(peer, k) for e, k in room.log.keys.items()}
        try:
            self.peer.send(peer, "sync", via[0].id, Grant(room.name, sealed, room=room.id, direct=True).encode())
        except (P2PError, ValueError) as exc:
            raise HubbubError("The conversation could not be sent; the connection dropped. Try again.") from exc

    def _on_direct_grant(self, peer: bytes, via: bytes, grant: Grant) -> None:
        """A direct room pushed to us: kept only from a peer that shares a room with us (so strangers cannot fill
        a profile with rooms), and at most `DIRECT_GRANTS_PER_PEER` per peer while the node runs."""
        target = grant.room
        if target is None or self.node.has_room(target):
            return
        if via not in {room.id for room in self.shared_with(peer)}:
            log.warning("refused a direct room from %s, who shares no room with us", peer.hex()[:12])
            return
        if self._direct_grants.get(peer, 0) >= DIRECT_GRANTS_PER_PEER:
            log.warning("refused a direct room from %s: too many already", peer.hex()[:12])
            return
        keys = self._open_grant_keys(peer, grant)
        if keys is None:
            return
        self._direct_grants[peer] = self._direct_grants.get(peer, 0) + 1
        self.node.profile.store.add_room(target, grant.name or "Direct message", keys)
        room = self.node.room(target)
        for epoch, key in keys.items():
            room.log.keys.setdefault(epoch, key)
        log.info("%s opened a direct room with us", peer.hex()[:12])
        self.room_added(room)  # proving the room's secret lets the session match it, and sync starts there

    def _open_grant_keys(self, peer: bytes, grant: Grant) -> dict[int, bytes] | None:
        keys = {}
        for epoch, sealed in grant.keys.items():
            try:
                keys[epoch] = open_sealed(self.node.profile.identity, sealed)
            except DecodeError:
                log.warning("a grant from %s holds a key that is not for us", peer.hex()[:12])
                return None
        return keys

    # ----- sync -----------------------------------------------------------------------------------

    def _start_sync(self, peer: bytes, room: Room) -> None:
        key = (peer, room.id)
        proto = self.sync.get(key)
        if proto is None:
            proto = self.sync[key] = SyncProtocol(StoreSource(room))
        proto.open()
        self._flush(key)

    def _on_room_entries(self, room: Room, entries: list[Entry]) -> None:
        state = room.log.state()  # cached per control frontier: a new object means control changed
        if self._control_seen.get(room.id) is not state:
            # Local control writes (public on/off, invites, removals) change what we prove and announce.
            # Deferred: `_admit` writes the joiner's `add` and must still send the grant over the
            # invite match, which refreshing at once would end.
            self._control_seen[room.id] = state
            if not self._refresh_soon:
                self._refresh_soon = True
                try:
                    asyncio.get_running_loop().call_soon(self._deferred_refresh)
                except RuntimeError:  # no loop running (not started): nothing to keep in order
                    self._deferred_refresh()
        for cb in self.listeners.entries:
            try:
                cb(room, entries)
            except Exception:
                log.exception("entries listener failed")
        for (peer, room_id), proto in self.sync.items():
            if room_id == room.id and self._may_receive(peer, room):
                proto.announce(entries)
                self._flush((peer, room_id))

    def _deferred_refresh(self) -> None:
        self._refresh_soon = False
        self.refresh_secrets()

    def _may_receive(self, peer: bytes, room: Room) -> bool:
        """Entries go only to current members (a removed member keeps nothing new)."""
        state = room.log.state()
        member = state.members.get(peer)
        return member is not None and member.removed_after is None

    def _flush(self, key: tuple[bytes, bytes]) -> None:
        proto = self.sync.get(key)
        if proto is None:
            return
        if not self.disk.is_clear():
            # Received entries are committed but not yet on disk: nothing goes out before they are.
            # (Held first: the worker may finish between the check and `after`, which then calls back at once.)
            first = not self._held_for_disk
            self._held_for_disk.add(key)
            if first:
                self.disk.after(self._release_held)
            return
        peer, room_id = key
        try:
            while proto.has_data():
                if self.peer.buffered_amount(peer, "sync") > HIGH_WATER:
                    self._flush_pending.add(key)
                    self._flush_wakeup.set()
                    return
                for frame in proto.data_to_send(4):
                    self.peer.send(peer, "sync", room_id, encode_sync(frame))
                    self.stats["entries_out"] += 1
        except P2PError as exc:
            log.debug("cannot send to %s: %s", peer.hex()[:12], exc)
            self.sync.pop(key, None)

    def _release_held(self) -> None:
        held, self._held_for_disk = self._held_for_disk, set()
        for key in held:
            self._flush(key)

    async def _flusher(self) -> None:
        while True:
            await self._flush_wakeup.wait()
            self._flush_wakeup.clear()
            while self._flush_pending:
                await asyncio.sleep(0.002)
                for key in list(self._flush_pending):
                    self._flush_pending.discard(key)
                    self._flush(key)

    def _on_sync_message(self, peer: bytes, room_id: bytes, payload: bytes) -> None:
        try:
            kind, body = decode_sync_channel(payload)
        except WireError as exc:
            self.peer.report_invalid(peer, str(exc))
            return
        if kind == GRANT:
            assert isinstance(body, Grant)
            self._on_grant(peer, room_id, body)
            return
        assert isinstance(body, bytes)
        if not self.node.has_room(room_id):
            return
        room = self.node.room(room_id)
        key = (peer, room_id)
        proto = self.sync.get(key)
        if proto is None:
            proto = self.sync[key] = SyncProtocol(StoreSource(room))
            proto.open()
        event = proto.receive(body)
        if isinstance(event, FrameRejected):
            self.peer.report_invalid(peer, event.reason)
        elif isinstance(event, EntriesReceived):
            self.stats["entries_in"] += len(event.entries)
            self._inbox.setdefault(room_id, []).append((peer, event.entries))
            if not self._drain_scheduled:
                self._drain_scheduled = True
                loop = asyncio.get_running_loop()
                if loop.time() - self._last_drain < COALESCE_SECONDS:
                    # Entries are streaming in: gather a few milliseconds' worth into one commit.
                    loop.call_later(COALESCE_SECONDS, self._drain_inbox)
                else:
                    self._drain_inbox()  # a lone message: store and show it now
        if self._may_receive(peer, room):
            self._flush(key)

    def _drain_inbox(self) -> None:
        """Ingest everything that arrived in one loop turn together: one validation pass and one
        commit per room, however many frames and peers it came in. The commit is fsynced off the
        loop (`DurabilityGate`); the entries are shown at once and passed on once on disk."""
        self._drain_scheduled = False
        self._last_drain = asyncio.get_running_loop().time()
        inbox, self._inbox = self._inbox, {}
        for room_id, batches in inbox.items():
            room = self.node.room(room_id)
            sender = {id(e): peer for peer, entries in batches for e in entries}
            try:
                result = room.ingest([e for _, entries in batches for e in entries], durable=False)
            except (HubbubError, RoomError) as exc:
                log.error("could not store entries for %s: %s", room.name, exc)
                continue
            if len(result.accepted) >= 1000:
                gc.freeze()  # see _housekeeping: keep a catch-up's objects out of full collections
            rejected_by: dict[bytes, int] = {}
            for entry, _reason in result.rejected:
                peer = sender.get(id(entry))
                if peer is not None:
                    rejected_by[peer] = rejected_by.get(peer, 0) + 1
            for peer, count in rejected_by.items():
                self._count_rejections(peer, room, count)
            if room.log.pending:
                for peer in {p for p, _ in batches}:
                    self._request_heads((peer, room_id))
            if result.control_changed:
                self.refresh_secrets()
            self._check_join_done(room)

    def _count_rejections(self, peer: bytes, room: Room, rejected: int) -> None:
        if not rejected:
            return
        self.stats["rejected"] += rejected
        log.warning("%d entries from %s for %s were rejected", rejected, peer.hex()[:12], room.name)
        self.invalid[peer] = self.invalid.get(peer, 0) + rejected
        for _ in range(min(rejected, 10)):
            self.peer.report_invalid(peer, "sent entries that do not validate")

    def _request_heads(self, key: tuple[bytes, bytes]) -> None:
        now = time.monotonic()
        if now - self._reheads.get(key, 0.0) < 0.5:
            return
        self._reheads[key] = now
        proto = self.sync.get(key)
        if proto is not None:
            proto.open()
            self._flush(key)

    # ----- live signals ---------------------------------------------------------------------------

    def set_typing(self, room: Room, channel: str, typing: bool = True) -> None:
        self._broadcast_live(room.id, encode_live("typing", c=channel, on=typing))

    def set_status(self, status: str) -> None:
        self._auto_idle = False
        self._set_my_status(status)

    def _set_my_status(self, status: str) -> None:
        changed = status != self._status
        self._status = status
        self._broadcast_live(None, encode_live("presence", s=status, n=self.node.profile.display_name))
        if changed:
            for cb in self.listeners.presence:
                cb(self.node.profile.public_key, status)

    def note_activity(self) -> None:
        """The person is using the app (the UI calls this on key and mouse activity): back to online if we
        went idle by ourselves. Until the first call a node never goes idle (a headless node has nobody to watch)."""
        self._last_activity = time.monotonic()
        if self._auto_idle:
            self._auto_idle = False
            if self._status == "idle":
                self._set_my_status("online")

    def _check_idle(self, now: float) -> None:
        if self._last_activity is None or self._auto_idle or self._status != "online":
            return
        if now - self._last_activity >= self.idle_after:
            self._set_my_status("idle")
            self._auto_idle = True

    def send_live(self, room_id: bytes | None, payload: dict[str, Any], to: bytes | None = None) -> None:
        """Send an app-defined live signal (e.g. voice-channel membership) to peers of a room,
        or only to peer `to`."""
        kind = str(payload.get("t", ""))
        fields = {k: v for k, v in payload.items() if k != "t"}
        if to is None:
            self._broadcast_live(room_id, encode_live(kind, **fields))
        else:
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(to, "live", room_id, encode_live(kind, **fields))

    def _broadcast_live(self, room_id: bytes | None, payload: bytes) -> None:
        for peer in self.peer.peers():
            if room_id is not None and room_id not in self.peer.shared_rooms(peer):
                continue
            if room_id is None and not self.shared_with(peer):
                continue  # presence and our name only to members of a room we share
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(peer, "live", room_id, payload)

    def send_voice(self, peer: bytes, room_id: bytes | None, packet: bytes) -> None:
        with contextlib.suppress(P2PError, ValueError):
            self.peer.send(peer, "voice", room_id, packet)

    def typing_in(self, room_id: bytes, channel: str) -> list[bytes]:
        now = time.monotonic()
        who = self.typing.get((room_id, channel), {})
        return [p for p, until in who.items() if until > now]

    def _on_live(self, peer: bytes, room_id: bytes | None, payload: bytes) -> None:
        try:
            msg = decode_live(payload)
        except WireError as exc:
            self.peer.report_invalid(peer, str(exc))
            return
        kind = msg["t"]
        if kind == "presence":
            status = msg.get("s") if msg.get("s") in ("online", "idle", "offline") else "online"
            self._set_presence(peer, str(status), str(msg.get("n", ""))[:64])
        elif kind == "typing" and room_id is not None:
            channel = str(msg.get("c", ""))[:64]
            on = bool(msg.get("on", True))
            slot = self.typing.setdefault((room_id, channel), {})
            if on:
                slot[peer] = time.monotonic() + TYPING_SECONDS
            else:
                slot.pop(peer, None)
            for typing_cb in self.listeners.typing:
                typing_cb(room_id, channel, peer, on)
        for live_cb in self.listeners.live:
            live_cb(peer, room_id, msg)

    def _set_presence(self, peer: bytes, status: str, name: str = "") -> None:
        old = self.presence.get(peer)
        self.presence[peer] = Presence(status, time.monotonic(), name or (old.name if old else ""))
        if old is None or old.status != status:
            log.info("%s is %s", peer.hex()[:12], status)
            for cb in self.listeners.presence:
                cb(peer, status)

    def status_of(self, peer: bytes) -> str:
        if peer == self.node.profile.public_key:
            return self._status
        p = self.presence.get(peer)
        return p.status if p else "offline"

    # ----- events ---------------------------------------------------------------------------------

    def _on_peer_event(self, event: PeerEvent) -> None:
        """Peer events are handled as they happen (no queue hop: a message is stored a loop turn sooner)."""
        try:
            self._handle(event)
        except Exception:
            log.exception("failed to handle %s", type(event).__name__)

    def _handle(self, event: PeerEvent) -> None:
        if isinstance(event, Received):
            if event.channel == "sync" and event.room_id is not None:
                self._on_sync_message(event.peer, event.room_id, event.payload)
            elif event.channel == "live":
                self._on_live(event.peer, event.room_id, event.payload)
            elif event.channel == "voice":
                for voice_cb in self.listeners.voice:
                    voice_cb(event.peer, event.room_id, event.payload)
        elif isinstance(event, RoomMatched):
            self._on_match(event)
            if event.my_label == event.their_label == "room":  # it proved the room: presence and our name
                with contextlib.suppress(P2PError, ValueError):
                    self.peer.send(event.peer, "live", None, encode_live("presence", s=self._status, n=self.node.profile.display_name))
        elif isinstance(event, PeerConnected):
            log.info("connected to %s", event.peer.hex()[:12])
            self._set_presence(event.peer, "online")
            for cb in self.listeners.peers:
                cb()
        elif isinstance(event, (PeerDisconnected, PeerBanned)):
            log.info("%s from %s: %s", "banned" if isinstance(event, PeerBanned) else "disconnected",
                     event.peer.hex()[:12], event.reason)
            for key in [k for k in self.sync if k[0] == event.peer]:
                del self.sync[key]
            if event.peer not in self.peer.peers():
                self._set_presence(event.peer, "offline")
            for cb in self.listeners.peers:
                cb()
        elif isinstance(event, RoomUnmatched):
            # Only the member-to-member match carries sync. Others come and go beside it (an invite
            # both sides hold is matched too, and unmatched once it is used) and must not end it.
            if event.my_label == "room" and event.their_label == "room":
                self.sync.pop((event.peer, event.room_id), None)

    def _on_match(self, event: RoomMatched) -> None:
        if not self.node.has_room(event.room_id):
            return
        room = self.node.room(event.room_id)
        if event.my_label == "room" and event.their_label == "room":
            log.info("sharing %s with %s", room.name, event.peer.hex()[:12])
            self._start_sync(event.peer, room)
            for shared_cb in self.listeners.shared:
                shared_cb(event.peer, room.id)
        elif event.my_label.startswith("invite:") or event.my_label == "public":
            self._admit(event.peer, room, event.my_label, event.their_label)

    async def _watch(self) -> None:
        """Light, frequent looks: idleness, and whether the LAN's public rooms changed."""
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                self._check_idle(time.monotonic())
                self._check_public_rooms()
            except Exception:
                log.exception("watch failed")

    def _check_public_rooms(self) -> None:
        seen = tuple(sorted((r.room_id, r.name, tuple(r.tags), r.member_count) for r in self.public_rooms()))
        if seen != self._public_seen:
            self._public_seen = seen
            for cb in self.listeners.public_rooms:
                cb()

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(5.0)
            saved = False
            for room in self.node.open_rooms():
                with contextlib.suppress(Exception):
                    room.purge_expired()
                with contextlib.suppress(Exception):
                    saved = room.snapshot_if_due() or saved
            if saved or not self._gc_frozen:
                # A node holds a large, long-lived, acyclic object graph (indexes, chains); moving it
                # out of the cyclic collector's view keeps full collections from pausing message delivery.
                gc.freeze()
                self._gc_frozen = True
            now = time.monotonic()
            for slot in self.typing.values():
                for peer in [p for p, until in slot.items() if until <= now]:
                    del slot[peer]
