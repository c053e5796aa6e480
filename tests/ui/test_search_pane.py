"""The search pane: Ctrl+F, results as you type grouped by room and channel, and a click that opens the message in its
context (the messages around it loaded, not the whole channel; it highlighted and in view)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.widgets.main_window import MainWindow
from ui.widgets.message_model import PAGE


def _click(qtbot: object, w: MainWindow, index: int) -> None:
    pane = w.search_pane
    item = pane.items()[index]
    rect = pane.list.visualItemRect(item)
    qtbot.mouseClick(pane.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # type: ignore[attr-defined]


def test_ctrl_f_results_as_you_type_grouped_by_room_and_channel(qtbot: object, window: MainWindow) -> None:
    w = window
    party = w.session.create_room("Party")
    party.create_channel("random")
    party.post("general", "who brings the pizza?")
    party.post("random", "pizza with pineapple, obviously")
    club = w.session.create_room("Book club")
    club.post("general", "a book about pizza")
    club.post("general", "nothing to see")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # type: ignore[attr-defined]
    assert w.search_pane.isVisible() and w.search_pane.box.hasFocus() and not w.members.isVisible()
    qtbot.keyClicks(w.search_pane.box, "pizz*")  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: len(w.search_pane.items()) == 3, timeout=3000)  # type: ignore[attr-defined]
    titles = [g.title for g in w.search_pane.state.groups]
    assert titles == ["Book club  ·  #general", "Party  ·  #random", "Party  ·  #general"]  # newest group first
    assert "<b>pizza</b>" in w.search_pane.state.groups[0].items[0].snippet_html
    assert w.search_pane.status.text() == "3 messages"
    w.search_pane.box.setText("pizza in:#random")
    qtbot.waitUntil(lambda: len(w.search_pane.items()) == 1, timeout=3000)  # type: ignore[attr-defined]
    w.search_pane.box.setText("before:someday")
    qtbot.waitUntil(lambda: "not a date" in w.search_pane.status.text(), timeout=3000)  # type: ignore[attr-defined]
    qtbot.keyClick(w.search_pane.box, Qt.Key.Key_Escape)  # type: ignore[attr-defined]
    assert not w.search_pane.isVisible() and w.members.isVisible() == w.members_button.isChecked()


def test_a_click_opens_the_message_in_its_context(qtbot: object, window: MainWindow) -> None:
    w = window
    here = w.session.create_room("Here")
    here.post("general", "stay here")
    big = w.session.create_room("Big")
    big.create_channel("archive")
    big.post_many("archive", [f"filler {i}" for i in range(1500)])
    old = big.post("archive", "the secret recipe is garlic")
    big.post_many("archive", [f"later {i}" for i in range(1500)])
    w.session.select_room(here.id)
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    w.finding.toggle_search()
    w.search_pane.box.setText("recipe")
    qtbot.waitUntil(lambda: len(w.search_pane.items()) == 1, timeout=3000)  # type: ignore[attr-defined]
    _click(qtbot, w, 0)
    assert w.session.room is not None and w.session.room.id == big.id and w.session.channel == "archive"
    row = w.model.row_of(old)
    assert row is not None, "the message was not loaded"
    assert w.model.rowCount() <= PAGE + 1  # the page around it, not the 1500 newer messages down to it
    assert 0 < row < w.model.rowCount() - 1  # with messages before and after it
    assert w.model.row(row).highlight and not w.model.row(row - 1).highlight
    qtbot.wait(50)  # type: ignore[attr-defined]
    row = w.model.row_of(old)  # older rows may have come in above it meanwhile
    assert row is not None
    rect = w.view.visualRect(w.model.index(row))
    assert w.view.viewport().rect().intersects(rect), "the message was not scrolled into view"
    # scrolling down reads newer pages; "to the bottom" (sending, say) is the newest page again
    assert w.model.has_newer()
    w.view.verticalScrollBar().setValue(w.view.verticalScrollBar().maximum())
    qtbot.waitUntil(lambda: w.model.rowCount() > PAGE + 1, timeout=2000)  # type: ignore[attr-defined]
    w.view.scrollToBottom()
    assert not w.model.has_newer() and w.model.message_at(w.model.rowCount() - 1).text == "later 1499"


def test_a_new_message_shows_up_in_open_results(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Live")
    room.post("general", "first zebra")
    w.finding.toggle_search()
    w.search_pane.box.setText("zebra")
    qtbot.waitUntil(lambda: len(w.search_pane.items()) == 1, timeout=3000)  # type: ignore[attr-defined]
    room.post("general", "second zebra")
    qtbot.waitUntil(lambda: len(w.search_pane.items()) == 2, timeout=3000)  # type: ignore[attr-defined]
    mid = room.post("general", "third zebra")
    room.delete(mid)
    qtbot.wait(400)  # type: ignore[attr-defined]
    assert len(w.search_pane.items()) == 2
