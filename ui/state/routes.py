"""How each member's session runs, for the member list's route marks: on the LAN, across the internet, or through TURN."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

# route -> (short label, what it means, icon name in ui.icons.NAMES)
ROUTES: dict[str, tuple[str, str, str]] = {
    "lan": ("LAN", "Direct on the LAN", "route_lan"),
    "direct": ("Internet", "Direct across the internet", "route_direct"),
    "turn": ("TURN", "Relayed by TURN (a relay's server passes the sealed traffic on)", "route_turn"),
}


class SessionLike(Protocol):
    """What a route mark reads of a node's session (p2p's `Session` has these; `rtt` in seconds, when it measures one)."""

    @property
    def route(self) -> str: ...

    @property
    def is_authenticated(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class RouteMark:
    """One member's mark: the route ("lan", "direct", "turn"), its label and icon, and the tooltip (with the round trip)."""

    route: str
    label: str
    icon: str
    tooltip: str


def round_trip(rtt: object) -> str | None:
    """A round trip in seconds as words ("0.4 ms"), or None when there is none (or it is not a number)."""
    if isinstance(rtt, bool) or not isinstance(rtt, (int, float)) or rtt != rtt or rtt < 0:
        return None
    ms = float(rtt) * 1000.0
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def route_mark(session: SessionLike) -> RouteMark | None:
    """The mark of one session, or None while it is not authenticated (or its route is not one we know)."""
    if not session.is_authenticated:
        return None
    known = ROUTES.get(session.route)
    if known is None:
        return None
    label, meaning, icon = known
    rtt = round_trip(getattr(session, "rtt", None))
    return RouteMark(session.route, label, icon, meaning + (f" · round trip {rtt}" if rtt else ""))


def member_routes(sessions: Mapping[bytes, SessionLike], members: Iterable[bytes]) -> dict[bytes, RouteMark]:
    """Member key -> the mark of our session with them, for the members we have an authenticated session with."""
    marks: dict[bytes, RouteMark] = {}
    for key in members:
        session = sessions.get(key)
        mark = route_mark(session) if session is not None else None
        if mark is not None:
            marks[key] = mark
    return marks
