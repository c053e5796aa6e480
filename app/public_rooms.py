"""The LAN's public rooms: the ones we announce, and the ones others announce that we could join."""

from __future__ import annotations

from p2p.node import PeerNode
from p2p.rooms import PublicRoom, PublicRoomSeen

from .node import Node
from .room import Room
from .service_types import ServiceListeners, call_all


class PublicRooms:
    """Public-room announcements out, and the room browser's list in (with a change signal)."""

    def __init__(self, node: Node, peer: PeerNode, listeners: ServiceListeners) -> None:
        self.node = node
        self.peer = peer
        self.listeners = listeners
        self._seen: tuple[tuple[bytes, str, tuple[str, ...], int], ...] = ()

    @staticmethod
    def announcement(room: Room) -> PublicRoom | None:
        """What we announce for a room of ours, if it is public and we are a member."""
        state = room.log.state()
        if not state.public or state.role_of(room.me) is None:
            return None
        tags = tuple(str(t) for t in room.view.settings().get("tags", []) or [])[:8]
        owner = state.members.get(state.owner) or state.former.get(state.owner)
        return PublicRoom(room.id, room.name, tags, len(state.active_members()), owner_key=state.owner,
                          owner_name=owner.name if owner is not None else "")

    def seen(self) -> list[PublicRoomSeen]:
        """Public rooms announced on the LAN that this profile does not hold."""
        mine = {rid for rid, _ in self.node.room_list()}
        return [r for r in self.peer.public_rooms() if r.room_id not in mine]

    def check_changed(self) -> None:
        seen = tuple(sorted((r.room_id, r.name, tuple(r.tags), r.member_count) for r in self.seen()))
        if seen != self._seen:
            self._seen = seen
            call_all(self.listeners.public_rooms)
