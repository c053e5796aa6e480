"""Invite terms: 1 hour, 1 day, 7 days or never, single use or N uses, chosen in the dialog and recorded in the room."""

from __future__ import annotations

import time
from typing import Any

from app.invite import NEVER, parse_invite
from app.node import Node
from app.room import Room
from ui.state.text import invite_terms
from ui.widgets.invite_dialog import InviteDialog
from ui.widgets.main_window import MainWindow

from .conftest import answer_dialog


def _invite_args(room: Room, invite_id: str) -> dict[str, Any]:
    """The arguments of the invite control operation with this id, as every member's node holds it."""
    ops = [n.op for n in room.log.graph.by_idx if n.op.op == "invite" and n.op.args.get("id") == invite_id]
    assert len(ops) == 1
    return dict(ops[0].args)


def test_invite_terms_go_into_the_control_operation(node: Node) -> None:
    room = node.create_room("Party")
    single = node.invite(room, 3600)
    args = _invite_args(room, single.invite_id)
    assert "uses" not in args and abs(args["expires_ms"] - (time.time() + 3600) * 1000) < 60_000
    five = node.invite(room, None, uses=5)
    args = _invite_args(room, five.invite_id)
    assert args["uses"] == 5 and args["expires_ms"] is None and five.expires_ms == NEVER  # never: no expiry in the room
    assert parse_invite(five.link()).expires_ms == NEVER
    assert invite_terms(None, 5) == "It works for 5 people and never expires."
    assert invite_terms(86400.0, 1) == "It works once and expires in 1 day."


def test_the_invite_dialog_makes_links_with_the_chosen_terms(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Party")
    made: list[str] = []

    def pick(d: InviteDialog) -> None:
        made.append(d.link)  # the first link: 7 days, single use
        d.choose(3600.0, 1)
        d.new_link()
        made.append(d.link)
        d.choose(None, 10)
        d.new_link()
        made.append(d.link)
        assert d.terms.text() == "It works for 10 people and never expires."
        assert d.uses.text() == "10 uses" and d.expiry.currentText() == "Never expires"
        d.reject()

    answer_dialog(InviteDialog, pick)  # type: ignore[arg-type]
    w.rooms.invite()
    assert len(made) == 3 and len(set(made)) == 3
    week, hour, never = (parse_invite(link) for link in made)
    now = time.time() * 1000
    assert abs(week.expires_ms - now - 7 * 86400_000) < 60_000 and abs(hour.expires_ms - now - 3600_000) < 60_000
    assert never.expires_ms == NEVER
    assert "uses" not in _invite_args(room, week.invite_id) and _invite_args(room, never.invite_id)["uses"] == 10
