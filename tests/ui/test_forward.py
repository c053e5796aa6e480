"""Forward, end to end: from the message menu into another room, and its provenance line on another member's node."""

from __future__ import annotations

from pathlib import Path

from app.node import Node
from app.profile import open_profile
from ui.desktop import build_window
from ui.widgets.main_window import MainWindow

from .conftest import carry


def test_forward_shows_where_the_message_came_from_here_and_on_another_node(qtbot: object, window: MainWindow,
                                                                            node: Node, tmp_path: Path) -> None:
    w = window
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    try:
        source = w.session.create_room("Weekend LAN")
        target = w.session.create_room("Book Club")
        target.add_member(bob.profile.public_key, "member", "bob")
        w.session.select_room(source.id)
        w.submit("Hall B, 2nd floor")
        qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
        menu = w.message_menu(w.model.message_at(0))
        forward = next(a for a in menu.actions() if a.text() == "Forward to").menu()
        next(a for a in forward.actions() if a.text() == "Book Club").trigger()
        forwarded = target.history("general")[-1]
        assert forwarded.text == "Hall B, 2nd floor" and forwarded.forward is not None
        assert forwarded.forward["room"] == "Weekend LAN" and forwarded.forward["author"] == "alice"
        w.session.select_room(target.id)
        qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
        row = w.model.row(0)
        assert w.delegate.forward_line(row) == "Forwarded from alice in Weekend LAN"
        plain = w.delegate.geometry(row, 800).height
        # Bob's node gets the room through its signed log; his window shows the same provenance.
        carry(node, target.id, bob, tmp_path)
        theirs = build_window(bob)
        qtbot.addWidget(theirs)  # type: ignore[attr-defined]
        theirs.show()
        theirs.session.select_room(target.id)
        qtbot.waitUntil(lambda: theirs.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
        their_row = theirs.model.row(0)
        assert their_row.author == "alice"
        assert theirs.delegate.forward_line(their_row) == "Forwarded from alice in Weekend LAN"
        assert theirs.delegate.geometry(their_row, 800).height == plain  # the line has its room in the row
        assert "Edit" not in [a.text() for a in theirs.message_menu(theirs.model.message_at(0)).actions()]
        theirs.close()
    finally:
        bob.close()
