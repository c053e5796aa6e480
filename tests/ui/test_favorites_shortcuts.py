"""The favorites view (header button, Ctrl+Shift+F) jumps to each favorite, in any channel; Ctrl+/ lists the shortcuts."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.state.shortcuts import SHORTCUTS
from ui.widgets.main_window import MainWindow


def test_favorites_list_and_jump(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Party")
    room.create_channel("random")
    old = room.post("random", "the address: Hall B")
    room.post_many("random", [f"chatter {i}" for i in range(120)])
    room.post("general", "hello")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    assert [a.text() for a in w.messages.favorites_menu().actions()][0].startswith("No favorites here yet")
    w.session.select_channel("random")
    qtbot.waitUntil(lambda: w.model.rowCount() > 0, timeout=2000)  # type: ignore[attr-defined]
    msg = w.model.message_at(w.model.rowCount() - 1)
    w.messages.set_favorite(msg, True)
    w.node.profile.store.set_favorite(room.id, old, True)  # one far up, not yet loaded
    w.session.select_channel("general")
    menu = w.messages.favorites_menu()
    texts = [a.text() for a in menu.actions()]
    assert texts == ["alice in #random: the address: Hall B", "alice in #random: chatter 119"]
    menu.actions()[0].trigger()
    assert w.session.channel == "random"
    qtbot.waitUntil(lambda: w.model.row_of(old) is not None, timeout=2000)  # type: ignore[attr-defined]
    qtbot.wait(50)  # type: ignore[attr-defined]
    row = w.model.row_of(old)
    assert row is not None
    rect = w.view.visualRect(w.model.index(row))
    assert w.view.viewport().rect().intersects(rect), "the favorite was not scrolled into view"


def test_ctrl_slash_lists_every_shortcut(qtbot: object, window: MainWindow) -> None:
    w = window
    w.session.create_room("Party")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)  # type: ignore[attr-defined]
    assert w.shortcuts_help.isVisible()
    for s in SHORTCUTS:
        assert s.keys in w.shortcuts_help.lines() and s.what.split("(")[0].strip() in w.shortcuts_help.lines()
    qtbot.keyClick(w.shortcuts_help, Qt.Key.Key_Escape)  # type: ignore[attr-defined]
    assert not w.shortcuts_help.isVisible()
