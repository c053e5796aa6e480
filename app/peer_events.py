"""Routing peer events to the node's parts: sessions coming and going, room matches, and the `sync` channel's
messages (sync frames, grants, key requests, join requests and refusals)."""

from __future__ import annotations

import logging

from p2p.events import PeerBanned, PeerConnected, PeerDisconnected, PeerEvent, Received, RoomMatched, RoomUnmatched
from p2p.node import PeerNode
from p2p.rooms import RoomSecret

from .direct import DirectRooms
from .joins import Joins
from .node import Node
from .presence import PresenceBook
from .room import Room
from .room_sync import RoomSync
from .service_types import ServiceListeners, call_all
from .wire import (GRANT, JOINREQ, KEYREQ, REFUSE, Grant, JoinRefusal, JoinRequest, KeyRequest, WireError,
                   decode_sync_channel, room_secret)

log = logging.getLogger(__name__)

OLD_SECRETS = 8  # older room keys we still prove, for members who missed a rotation
ROOM_LABELS = ("room", "room-old")


def room_secrets(room: Room) -> list[RoomSecret]:
    """What we prove to find a room's other members: the current key ("room"), and a few older keys
    ("room-old") so a member who missed a rotation still finds someone to catch up from. A removed
    member holds only older keys: it may still match those, but is sent nothing (`RoomSync.may_receive`)."""
    out = []
    current = room.log.current_key()
    if current is not None:
        out.append(RoomSecret(room.id, room_secret(current), "room"))
    graph = room.log.graph
    older = sorted((graph.nodes[r].rot_gen if r in graph.nodes else 0, r) for r in room.log.keys)
    for _gen, rotation in reversed(older[-OLD_SECRETS:]):
        key = room.log.keys.get(rotation)
        if key is not None and key != current:
            out.append(RoomSecret(room.id, room_secret(key), "room-old"))
    return out


class EventRouter:
    """Hands each peer event to the part it concerns."""

    def __init__(self, node: Node, peer: PeerNode, listeners: ServiceListeners, sync: RoomSync, joins: Joins,
                 direct: DirectRooms, presence: PresenceBook) -> None:
        self.node = node
        self.peer = peer
        self.listeners = listeners
        self.rooms_sync = sync
        self.joins = joins
        self.direct = direct
        self.presence_book = presence

    def on_event(self, event: PeerEvent) -> None:
        """Peer events are handled as they happen (no queue hop: a message is stored a loop turn sooner)."""
        try:
            self.handle(event)
        except Exception:
            log.exception("failed to handle %s", type(event).__name__)

    def handle(self, event: PeerEvent) -> None:
        if isinstance(event, Received):
            if event.channel == "sync" and event.room_id is not None:
                self._on_sync_message(event.peer, event.room_id, event.payload)
            elif event.channel == "live":
                self.presence_book.on_live(event.peer, event.room_id, event.payload)
            elif event.channel == "voice":
                call_all(self.listeners.voice, event.peer, event.room_id, event.payload)
        elif isinstance(event, RoomMatched):
            self._on_match(event)
        elif isinstance(event, PeerConnected):
            log.info("connected to %s", event.peer.hex()[:12])
            self.presence_book.connected(event.peer)
            call_all(self.listeners.peers)
        elif isinstance(event, (PeerDisconnected, PeerBanned)):
            log.info("%s from %s: %s", "banned" if isinstance(event, PeerBanned) else "disconnected",
                     event.peer.hex()[:12], event.reason)
            self.rooms_sync.drop(event.peer)
            self.presence_book.disconnected(event.peer)
            call_all(self.listeners.peers)
        elif isinstance(event, RoomUnmatched):
            # Only member-to-member matches carry sync; others come and go beside them (an invite both sides
            # hold is matched too, and unmatched once it is used) and must not end it.
            if (event.my_label in ROOM_LABELS and event.their_label in ROOM_LABELS
                    and event.room_id not in self.peer.shared_rooms(event.peer)):
                self.rooms_sync.drop(event.peer, event.room_id)

    def _on_sync_message(self, peer: bytes, room_id: bytes, payload: bytes) -> None:
        try:
            kind, body = decode_sync_channel(payload)
        except WireError as exc:
            self.peer.report_invalid(peer, str(exc))
            return
        if kind == GRANT:
            assert isinstance(body, Grant)
            if body.direct:
                self.direct.on_grant(peer, room_id, body)
            else:
                self.joins.on_grant(peer, room_id, body)
        elif kind == KEYREQ:
            assert isinstance(body, KeyRequest)
            if self.node.has_room(room_id):
                self.rooms_sync.answer_key_request(peer, self.node.room(room_id), body.rotations)
        elif kind == JOINREQ:
            assert isinstance(body, JoinRequest)
            self.joins.on_request(peer, room_id, body)
        elif kind == REFUSE:
            assert isinstance(body, JoinRefusal)
            self.joins.on_refusal(peer, room_id, body)
        else:
            assert isinstance(body, bytes)
            self.rooms_sync.on_frame(peer, room_id, body)

    def _on_match(self, event: RoomMatched) -> None:
        if event.my_label in ROOM_LABELS and event.their_label in ROOM_LABELS:
            if not self.node.has_room(event.room_id):
                return
            room = self.node.room(event.room_id)
            if not self.rooms_sync.may_receive(event.peer, room):
                return
            self.presence_book.room_shared(event.peer)
            if self.rooms_sync.has(event.peer, room.id):
                return
            log.info("sharing %s with %s", room.name, event.peer.hex()[:12])
            self.rooms_sync.start(event.peer, room)
            call_all(self.listeners.shared, event.peer, room.id)
        else:
            self.joins.on_match(event)
