"""The member list's route marks apart from Qt: which members get one, what it says, and the round trip in its tooltip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from p2p.routes import Route

from ui.icons import NAMES
from ui.state.routes import ROUTES, member_routes, round_trip, route_mark


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
