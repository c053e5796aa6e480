"""Direct messages: a room of two, created on demand and pushed to the other person inside a room both share.

`open_dm(peer)` returns our direct room with `peer`, or creates one (named "Alice & Bob", marked
direct in its settings, the peer added by the owner) and pushes its keys to the peer as a grant,
sent on the session *in a room both already share* (a session carries only proven rooms). The
receiver keeps such a grant only from a peer that shares a room with it, checked like any grant
(its keys must open the room's signed genesis), and at most `DIRECT_GRANTS_PER_PEER` per peer
while the node runs, so a stranger cannot push rooms into a profile.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from p2p.errors import P2PError
from p2p.node import PeerNode

from .errors import HubbubError
from .grants import check_grant, make_grant
from .node import Node
from .presence import PresenceBook
from .room import Room
from .room_sync import RoomSync
from .wire import Grant

log = logging.getLogger(__name__)

DIRECT_GRANTS_PER_PEER = 20


class DirectRooms:
    """Our direct rooms, and the grants that create them."""

    def __init__(self, node: Node, peer: PeerNode, sync: RoomSync, presence: PresenceBook,
                 room_added: Callable[[Room], None]) -> None:
        self.node = node
        self.peer = peer
        self.sync = sync
        self.presence = presence
        self._room_added = room_added
        self._grants_from: dict[bytes, int] = {}

    def rooms_with(self, peer: bytes) -> list[Room]:
        """Every direct room of just us and `peer`, the one in use first: if both people opened one at the same
        moment there are two, and both sides pick the one with the smaller id."""
        pair = {self.node.profile.public_key, peer}
        return sorted((room for room in self.node.open_rooms()
                       if room.is_direct() and set(room.log.state().active_members()) == pair),
                      key=lambda room: room.id)

    def room_with(self, peer: bytes) -> Room | None:
        rooms = self.rooms_with(peer)
        return rooms[0] if rooms else None

    def shared_with(self, peer: bytes) -> list[Room]:
        """Rooms that `peer` proved it holds on its session and where both of us are current members."""
        proven = self.peer.shared_rooms(peer)
        return [room for room in self.node.open_rooms()
                if room.id in proven and room.my_role() is not None and self.sync.may_receive(peer, room)]

    def peer_name(self, peer: bytes) -> str:
        """What `peer` calls itself: its name in a room we share, or in its presence signal."""
        for room in self.node.open_rooms():
            member = room.log.state().members.get(peer)
            if member is not None and member.name:
                return member.name
        return self.presence.name_of(peer) or peer.hex()[:8]

    async def async_open(self, peer: bytes) -> Room:
        """Our direct room with a connected peer we share a room with, created (and pushed to them) if needed."""
        me = self.node.profile.public_key
        if peer == me:
            raise HubbubError("You cannot start a direct message with yourself.")
        name = self.peer_name(peer)
        existing = self.room_with(peer)
        if existing is not None:
            if peer in self.peer.peers() and existing.id not in self.peer.shared_rooms(peer):
                with contextlib.suppress(HubbubError):  # they may have missed it; a second grant is ignored if not
                    self._push(peer, existing)
            return existing
        if peer not in self.peer.peers():
            raise HubbubError(f"{name} is offline, so a direct conversation cannot start now; try again when they are online.")
        if not self.shared_with(peer):
            raise HubbubError(f"You can only message people you share a room with, and you share none with {name} yet.")
        mine = self.node.profile.display_name or me.hex()[:8]
        room = self.node.create_room(f"{mine} & {name}"[:100])
        room.update_settings(direct=True)
        room.add_member(peer, name=name)
        self._room_added(room)
        self._push(peer, room)
        log.info("opened a direct room with %s", peer.hex()[:12])
        return room

    def _push(self, peer: bytes, room: Room) -> None:
        via = self.shared_with(peer)
        if not via:
            raise HubbubError("That person no longer shares a room with you, so the conversation cannot reach them.")
        grant = make_grant(room, peer, direct=True)
        try:
            if grant is None:
                raise ValueError("no keys")
            self.peer.send(peer, "sync", via[0].id, grant.encode())
        except (P2PError, ValueError) as exc:
            raise HubbubError("The conversation could not be sent; the connection dropped. Try again.") from exc

    def on_grant(self, peer: bytes, via: bytes, grant: Grant) -> None:
        """A direct room pushed to us (see the module's docstring for what is kept)."""
        target = grant.room
        if target is None or self.node.has_room(target):
            return
        if via not in {room.id for room in self.shared_with(peer)}:
            log.warning("refused a direct room from %s, who shares no room with us", peer.hex()[:12])
            return
        if self._grants_from.get(peer, 0) >= DIRECT_GRANTS_PER_PEER:
            log.warning("refused a direct room from %s: too many already", peer.hex()[:12])
            return
        checked = check_grant(self.node.profile.identity, target, grant)
        if isinstance(checked, str):
            log.warning("%s %s", peer.hex()[:12], checked)
            self.peer.report_invalid(peer, checked)
            return
        keys, genesis = checked
        self._grants_from[peer] = self._grants_from.get(peer, 0) + 1
        self.node.profile.store.add_room(target, grant.name or "Direct message", {target: keys.pop(target)})
        room = self.node.room(target)
        room.ingest([genesis], durable=False)
        room.offer_keys(keys, durable=False)
        log.info("%s opened a direct room with us", peer.hex()[:12])
        self._room_added(room)  # proving the room's secret lets the session match it, and sync starts there
