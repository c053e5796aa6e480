"""Keeping rooms in sync with peers: one sans-IO `SyncProtocol` per (peer, room), fed and flushed over the `sync` channel.

Entries from peers are gathered for a few milliseconds into one check and one commit per room and
sender, shown at once and fsynced in a worker thread (`DurabilityGate`); no frame leaves while a
received entry is not yet on disk. New entries, ours or relayed, are announced to every other member
in session, which is what spreads history transitively. Nothing from the log goes to a peer that is
not a current member (heads and requests, which carry no content, may). What a peer sends that does
not check out counts against it; proofs of equivocation are passed on; entries worth asking for again
(WANT) and keys we lack (KeyRequest) are asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

from crdt.entry import Entry
from crdt.errors import RoomError
from crdt.room import IngestResult
from crdt.sync import EntriesReceived, FrameRejected, SyncProtocol
from p2p.errors import P2PError
from p2p.node import PeerNode

from .durability import DurabilityGate
from .errors import HubbubError
from .grants import make_grant
from .node import Node
from .room import Room
from .service_types import StoreSource
from .wire import KeyRequest, encode_sync

log = logging.getLogger(__name__)

HIGH_WATER = 1 << 20
COALESCE_SECONDS = 0.003  # a second batch within this time waits this long to join the next one
Key = tuple[bytes, bytes]  # (peer, room id)


class RoomSync:
    """Sync of every room with every peer in session that shares it."""

    def __init__(self, node: Node, peer: PeerNode, disk: DurabilityGate, *,
                 control_changed: Callable[[Room], None], progressed: Callable[[Room], None]) -> None:
        self.node = node
        self.peer = peer
        self.disk = disk
        self._control_changed = control_changed
        self._progressed = progressed
        self.protocols: dict[Key, SyncProtocol] = {}
        self.invalid: dict[bytes, int] = {}
        self.stats = {"entries_in": 0, "entries_out": 0, "rejected": 0}
        self._flush_pending: set[Key] = set()
        self._held_for_disk: set[Key] = set()
        self._flush_wakeup = asyncio.Event()
        self._reheads: dict[Key, float] = {}
        self._inbox: dict[bytes, list[tuple[bytes, list[Entry]]]] = {}
        self._drain_scheduled = False
        self._last_drain = 0.0

    # ----- who gets what ---------------------------------------------------------------------------

    @staticmethod
    def may_receive(peer: bytes, room: Room) -> bool:
        """Entries go only to current members (a removed member keeps nothing new)."""
        return room.log.state().role_of(peer) is not None

    def start(self, peer: bytes, room: Room) -> None:
        """Open (or restart) the conversation about `room` with `peer`."""
        key = (peer, room.id)
        proto = self.protocols.get(key)
        if proto is None:
            proto = self.protocols[key] = SyncProtocol(StoreSource(room))
        proto.open()
        self.flush(key)

    def has(self, peer: bytes, room_id: bytes) -> bool:
        return (peer, room_id) in self.protocols

    def drop(self, peer: bytes, room_id: bytes | None = None) -> None:
        """Forget the conversations with `peer` (about one room, or all)."""
        for key in [k for k in self.protocols if k[0] == peer and (room_id is None or k[1] == room_id)]:
            del self.protocols[key]

    def announce(self, room: Room, entries: list[Entry]) -> None:
        """Push entries a room just held to every member in session (our own writes and relays alike)."""
        for (peer, room_id), proto in list(self.protocols.items()):  # a failed send drops its conversation
            if room_id == room.id and self.may_receive(peer, room):
                proto.announce(entries)
                self.flush((peer, room_id))

    def answer_key_request(self, peer: bytes, room: Room, rotations: tuple[bytes, ...]) -> None:
        """A member lacks the keys of these rotations: seal them to it (it checks them by their commitments)."""
        if not self.may_receive(peer, room):
            return
        grant = make_grant(room, peer, only=set(rotations))
        if grant is not None:
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(peer, "sync", room.id, grant.encode())

    # ----- outgoing ------------------------------------------------------------------------------

    def flush(self, key: Key) -> None:
        proto = self.protocols.get(key)
        if proto is None or not self.node.has_room(key[1]):
            return
        peer, room_id = key
        if not self.may_receive(peer, self.node.room(room_id)):
            # Nothing from the log goes to someone who is not a current member (as far as we know: a joiner
            # knows no members yet). Heads and requests carry no content, so they still go, and let a member
            # who does know the peer start sending.
            with contextlib.suppress(P2PError):
                for frame in proto.take_signals():
                    self.peer.send(peer, "sync", room_id, encode_sync(frame))
            return
        if not self.disk.is_clear():
            # Received entries are committed but not yet on disk: nothing goes out before they are.
            # (Held first: the worker may finish between the check and `after`, which then calls back at once.)
            first = not self._held_for_disk
            self._held_for_disk.add(key)
            if first:
                self.disk.after(self._release_held)
            return
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
            self.protocols.pop(key, None)

    def _release_held(self) -> None:
        held, self._held_for_disk = self._held_for_disk, set()
        for key in held:
            self.flush(key)

    async def async_run(self) -> None:
        """Flush conversations that waited for the peer's buffer to drain."""
        while True:
            await self._flush_wakeup.wait()
            self._flush_wakeup.clear()
            while self._flush_pending:
                await asyncio.sleep(0.002)
                for key in list(self._flush_pending):
                    self._flush_pending.discard(key)
                    self.flush(key)

    # ----- incoming ------------------------------------------------------------------------------

    def on_frame(self, peer: bytes, room_id: bytes, body: bytes) -> None:
        """A sync frame from `peer` about `room_id`."""
        if not self.node.has_room(room_id):
            return
        room = self.node.room(room_id)
        key = (peer, room_id)
        proto = self.protocols.get(key)
        if proto is None:
            proto = self.protocols[key] = SyncProtocol(StoreSource(room))
            proto.open()
        event = proto.receive(body)
        if isinstance(event, FrameRejected):
            self.peer.report_invalid(peer, event.reason)
            self.invalid[peer] = self.invalid.get(peer, 0) + 1
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
        self.flush(key)

    def _drain_inbox(self) -> None:
        """Ingest everything that arrived in one loop turn together: one check and one commit per room and
        sender, fsynced off the loop; shown at once, passed on once on disk."""
        self._drain_scheduled = False
        self._last_drain = asyncio.get_running_loop().time()
        inbox, self._inbox = self._inbox, {}
        for room_id, batches in inbox.items():
            room = self.node.room(room_id)
            by_peer: dict[bytes, list[Entry]] = {}
            for peer, entries in batches:
                by_peer.setdefault(peer, []).extend(entries)
            changed = False
            accepted = 0
            try:
                for peer, entries in by_peer.items():
                    result = room.ingest(entries, durable=False, origin=peer)
                    self._after_ingest(peer, room, result)
                    changed |= result.control_changed
                    accepted += len(result.accepted)
            except (HubbubError, RoomError) as exc:
                log.error("could not store entries for %s: %s", room.name, exc)
                continue
            if accepted >= 1000:
                gc.freeze()  # see Housekeeping: keep a catch-up's objects out of full collections
            if room.log.pending:
                for peer in by_peer:
                    self._request_heads((peer, room_id))
            if changed:
                self._control_changed(room)
            self._progressed(room)

    def _after_ingest(self, peer: bytes, room: Room, result: IngestResult) -> None:
        """Count what a peer sent against it, pass on proofs of equivocation, ask for what is missing."""
        bad = len(result.rejected) + len(result.dropped)
        # A peer relaying someone else's void entry is not at fault; one sending its own unauthorised entries is.
        bad += sum(1 for e, _why in result.void if e.author == peer)
        self.count_invalid(peer, room, bad)
        if result.equivocations:
            proofs = [eq.second for eq in result.equivocations]
            for (other, room_id), proto in list(self.protocols.items()):
                if room_id == room.id and other != peer:
                    proto.send_entries(proofs)
                    self.flush((other, room_id))
        if result.wanted:
            for (other, room_id), proto in list(self.protocols.items()):
                if room_id == room.id:
                    proto.want((a, s, 1) for a, s in result.wanted)
                    self.flush((other, room_id))
        missing = room.log.waiting_for_keys()
        if missing and self.may_receive(peer, room):
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(peer, "sync", room.id, KeyRequest(tuple(missing[:64])).encode())
        if result.new_keys:
            self._control_changed(room)

    def count_invalid(self, peer: bytes, room: Room, count: int) -> None:
        if not count:
            return
        self.stats["rejected"] += count
        log.warning("%d entries from %s for %s did not check out", count, peer.hex()[:12], room.name)
        self.invalid[peer] = self.invalid.get(peer, 0) + count
        for _ in range(min(count, 10)):
            self.peer.report_invalid(peer, "sent entries that do not validate")

    def _request_heads(self, key: Key) -> None:
        now = time.monotonic()
        if now - self._reheads.get(key, 0.0) < 0.5:
            return
        self._reheads[key] = now
        proto = self.protocols.get(key)
        if proto is not None:
            proto.open()
            self.flush(key)
