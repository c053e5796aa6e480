"""Route marks apart from the widgets: which members get one, what it says, the round trip in its tooltip, a DM
peer's mark, and `RouteWatch` saying when a route came, went or changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from p2p.routes import Route

from ui.icons import NAMES
from ui.state.routes import ROUTES, RouteWatch, member_routes, peer_route, round_trip, route_mark


@dataclass(frozen=True)
class Seen:
    """What the function reads of a p2p Session: its route, whether it authenticated, and (when measured) rtt."""

    route: str
    is_authenticated: bool = True
    rtt: object = None


A, B, C, D, E = (bytes([i]) * 32 for i in range(1, 6))


def test_lan_direct_and_turn_sessions_get_their_marks() -> None:
    sessions = {A: Seen("lan", rtt=0.0004), B: Seen("direct", rtt=0.0331), C: Seen("turn", rtt=0.25)}
    marks = member_routes(sessions, [A, B, C])
    assert {k: m.route for k, m in marks.items()} == {A: "lan", B: "direct", C: "turn"}
    assert [marks[k].label for k in (A, B, C)] == ["LAN", "Internet", "TURN"]
    assert marks[A].tooltip == "Direct on the LAN · round trip 0.4 ms"
    assert marks[B].tooltip == "Direct across the internet · round trip 33.1 ms"
    assert marks[C].tooltip.startswith("Relayed by TURN") and marks[C].tooltip.endswith("round trip 250 ms")
    assert {m.icon for m in marks.values()} <= set(NAMES)


def test_only_members_with_an_authenticated_session_get_a_mark() -> None:
    sessions = {A: Seen("lan"), B: Seen("turn", is_authenticated=False), C: Seen("carrier-pigeon"), E: Seen("lan")}
    marks = member_routes(sessions, [A, B, C, D])  # E has a session but is not a member of this room
    assert list(marks) == [A]
    assert marks[A].tooltip == "Direct on the LAN"  # no round trip measured yet: none shown


def test_a_round_trip_that_is_not_a_number_is_left_out() -> None:
    assert [round_trip(v) for v in (None, "3", True, float("nan"), -1.0)] == [None] * 5
    assert round_trip(0) == "0.0 ms" and round_trip(1.5) == "1500 ms"
    mark = route_mark(Seen("direct", rtt="fast"))
    assert mark is not None and mark.tooltip == "Direct across the internet"


def test_every_route_the_node_reports_has_a_mark() -> None:
    assert set(ROUTES) == set(get_args(Route))


def test_a_direct_rooms_peer_gets_the_mark_of_our_session_with_them() -> None:
    sessions = {A: Seen("turn", rtt=0.003), B: Seen("lan", is_authenticated=False)}
    mark = peer_route(sessions, A)
    assert mark is not None and (mark.route, mark.label) == ("turn", "TURN") and mark.tooltip.endswith("3.0 ms")
    assert peer_route(sessions, B) is None and peer_route(sessions, C) is None and peer_route(sessions, None) is None


def test_the_watch_says_when_a_route_comes_changes_or_goes_and_not_otherwise() -> None:
    sessions: dict[bytes, Seen] = {}
    watch = RouteWatch(lambda: sessions, interval_ms=60_000)
    told: list[dict[bytes, str]] = []
    watch.changed.connect(lambda: told.append(dict(watch.routes)))
    assert watch.look() is False and told == []
    sessions[A] = Seen("direct", rtt=0.01)
    assert watch.look() is True and told == [{A: "direct"}]
    sessions[A] = Seen("direct", rtt=0.02)  # only the round trip moved: the marks' tooltips read it when shown
    assert watch.look() is False and len(told) == 1
    sessions[A] = Seen("turn")
    sessions[B] = Seen("lan", is_authenticated=False)
    assert watch.look() is True and told[-1] == {A: "turn"}
    mark = watch.mark(A)
    assert mark is not None and mark.label == "TURN" and watch.mark(B) is None
    del sessions[A]
    assert watch.look() is True and told[-1] == {} and len(told) == 3
