"""How each peer's session runs, for the route marks (member list, DM header, the rail's DMs): LAN, internet or TURN.

`RouteWatch` looks at the node's sessions on every peer change and every couple of seconds, and
says when any mark changed (a session came, went, or runs another way now), so every place that
shows one follows at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal

WATCH_MS = 2000  # how often the sessions are looked at besides on peer changes (a route settles after its session)

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


def peer_route(sessions: Mapping[bytes, SessionLike], key: bytes | None) -> RouteMark | None:
    """The mark of our session with one peer (a direct room's other person), or None without one."""
    return None if key is None else member_routes(sessions, [key]).get(key)


class RouteWatch(QObject):
    """The routes of the node's sessions, looked at on demand (`look`) and every `WATCH_MS`: `changed` when one differs."""

    changed = Signal()

    def __init__(self, sessions: Callable[[], Mapping[bytes, SessionLike]], parent: QObject | None = None,
                 interval_ms: int = WATCH_MS) -> None:
        super().__init__(parent)
        self.sessions = sessions
        self.routes: dict[bytes, str] = {}
        """Peer key -> route ("lan", "direct", "turn") of every authenticated session, as last looked at."""
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.look)
        self._timer.start()

    def pause(self, paused: bool) -> None:
        """Stop (or start again) the looks every `WATCH_MS`, as while nothing shows a mark."""
        if paused:
            self._timer.stop()
        else:
            self._timer.start()

    def look(self) -> bool:
        """Read the sessions now; True (and `changed`) if a route came, went or changed since the last look."""
        sessions = self.sessions()
        now = {key: mark.route for key, mark in member_routes(sessions, sessions.keys()).items()}
        if now == self.routes:
            return False
        self.routes = now
        self.changed.emit()
        return True

    def mark(self, key: bytes | None) -> RouteMark | None:
        """The mark of our session with `key` now (with its round trip), or None."""
        return peer_route(self.sessions(), key)
