"""The running node's sessions as `hubbub peers` and the UI show them: name, key, route (lan, direct, turn), round trip."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .service import NodeService


def session_rows(service: NodeService) -> list[dict[str, Any]]:
    """One row per authenticated session: `name`, `key` (hex), `route`, `rtt_ms` (None until measured), `rooms` (ids)."""
    rows = []
    for key in service.peer.peers():
        session = service.peer.session(key)
        if session is None:
            continue
        shared = sorted(service.peer.shared_rooms(key))
        name = service.presence_book.name_of(key)
        if not name:
            for room_id in shared:
                if service.node.has_room(room_id):
                    member = service.node.room(room_id).log.state().members.get(key)
                    if member is not None and member.name:
                        name = member.name
                        break
        rtt = getattr(session, "rtt", None)
        rows.append({"name": name, "key": key.hex(), "route": session.route,
                     "rtt_ms": None if rtt is None else round(float(rtt) * 1000.0, 2),
                     "rooms": [r.hex() for r in shared]})
    rows.sort(key=lambda r: (str(r["name"]).lower(), str(r["key"])))
    return rows


def route_of(service: NodeService, peer: bytes) -> str | None:
    """How the session with `peer` runs ("lan", "direct", "turn"), or None without one."""
    session = service.peer.session(peer)
    return None if session is None or not session.is_authenticated else session.route
