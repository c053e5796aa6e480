"""Creating a room and posting, then reply, react, edit and delete, all through the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from app.node import Node
from ui.widgets.dialogs import NameDialog
from ui.widgets.main_window import MainWindow
from ui.widgets.message_model import ROW_ROLE

from .conftest import answer_dialog


def _type_and_send(qtbot: object, w: MainWindow, text: str) -> None:
    qtbot.keyClicks(w.composer.edit, text)  # type: ignore[attr-defined]
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]


def _action(menu: QMenu, text: str) -> None:
    for a in menu.actions():
        if a.text() == text:
            a.trigger()
            return
        if a.menu() is not None:
            for b in a.menu().actions():
                if b.text() == text:
                    b.trigger()
                    return
    raise AssertionError(f"no menu action {text!r} in {[a.text() for a in menu.actions()]}")


def test_create_a_room_and_post(qtbot: object, window: MainWindow, node: Node) -> None:
    w = window
    assert w.stack.currentWidget() is w.empty

    def fill(d: NameDialog) -> None:  # type: ignore[override]
        d.field.setText("Weekend LAN")
        d.accept()

    answer_dialog(NameDialog, fill)  # type: ignore[arg-type]
    qtbot.mouseClick(w.empty_create, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert w.session.room is not None and w.session.room.name == "Weekend LAN"
    assert w.stack.currentWidget() is w.chat
    assert w.rail.list.count() == 1
    _type_and_send(qtbot, w, "Hello **there**")
    assert w.composer.edit.toPlainText() == ""
    room = node.find_room("Weekend LAN")
    assert [m.text for m in room.history("general")] == ["Hello **there**"]
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]


def test_shift_enter_makes_a_newline(qtbot: object, window: MainWindow) -> None:
    w = window
    w.session.create_room("r")
    qtbot.keyClicks(w.composer.edit, "one")  # type: ignore[attr-defined]
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # type: ignore[attr-defined]
    qtbot.keyClicks(w.composer.edit, "two")  # type: ignore[attr-defined]
    assert w.composer.edit.toPlainText() == "one\ntwo"
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert w.session.room is not None
    assert w.session.room.history("general")[-1].text == "one\ntwo"


def test_reply_react_edit_delete(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Friends")
    _type_and_send(qtbot, w, "first message")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    first = w.model.message_at(0)

    # reply from the context menu
    _action(w.message_menu(first), "Reply")
    assert w.composer.bar.isVisible()
    _type_and_send(qtbot, w, "a reply")
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=2000)  # type: ignore[attr-defined]
    reply = w.model.message_at(1)
    assert reply.reply_to == first.id and not w.composer.bar.isVisible()
    assert w.model.data(w.model.index(1), ROW_ROLE).reply == ("alice", "first message")

    # react from the menu, then click the chip to take the reaction back
    _action(w.message_menu(first), "🎉")
    qtbot.waitUntil(lambda: w.model.message_at(0).reactions.get("🎉") == [w.session.me], timeout=2000)  # type: ignore[attr-defined]
    w.view.scrollToTop()
    qtbot.wait(20)  # type: ignore[attr-defined]
    row = w.model.data(w.model.index(0), ROW_ROLE)
    rect = w.view.visualRect(w.model.index(0))
    chip, emoji = w.delegate.geometry(row, w.view.viewport().width()).chips[0]
    assert emoji == "🎉"
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.topLeft() + chip.center())  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: "🎉" not in w.model.message_at(0).reactions, timeout=2000)  # type: ignore[attr-defined]

    # Up on an empty composer edits my last message; Esc cancels, Enter saves
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Up)  # type: ignore[attr-defined]
    assert w.composer.edit.toPlainText() == "a reply"
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Escape)  # type: ignore[attr-defined]
    assert w.composer.edit.toPlainText() == "" and not w.composer.bar.isVisible()
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Up)  # type: ignore[attr-defined]
    w.composer.edit.clear()
    _type_and_send(qtbot, w, "a better reply")
    qtbot.waitUntil(lambda: w.model.message_at(1).edited, timeout=2000)  # type: ignore[attr-defined]
    assert w.model.message_at(1).text == "a better reply"
    assert room.history("general")[1].text == "a better reply"

    # delete from the menu: the row stays as a tombstone
    _action(w.message_menu(w.model.message_at(0)), "Delete message")
    qtbot.waitUntil(lambda: w.model.message_at(0).deleted, timeout=2000)  # type: ignore[attr-defined]
    assert w.model.rowCount() == 2
    assert w.model.data(w.model.index(1), ROW_ROLE).reply == ("", "Original message was deleted")


def test_mention_autocomplete_and_pins(qtbot: object, window: MainWindow) -> None:
    from ui.state.composer import Completion

    w = window
    w.session.create_room("r")
    w.composer.members = [Completion("bob", "bb_xxxx"), Completion("bella", "be_yyyy")]
    qtbot.keyClicks(w.composer.edit, "hi @be")  # type: ignore[attr-defined]
    assert w.composer.popup.isVisible() and w.composer.popup.count() == 1
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert w.composer.edit.toPlainText() == "hi @bella "
    assert not w.composer.popup.isVisible()
    w.composer.edit.clear()
    _type_and_send(qtbot, w, "pin me")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    _action(w.message_menu(w.model.message_at(0)), "Pin")
    qtbot.waitUntil(lambda: w.model.message_at(0).pinned, timeout=2000)  # type: ignore[attr-defined]
    assert w.session.room is not None and [m.text for m in w.session.room.view.pinned("general")] == ["pin me"]


def test_channels_and_quick_switch(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("r")
    room.create_channel("random")
    w.session.select_room(room.id)
    assert w.session.channel == "general"
    qtbot.keyClick(w, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)  # type: ignore[attr-defined]
    assert w.session.channel == "random"
    qtbot.keyClick(w, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)  # type: ignore[attr-defined]
    assert w.session.channel == "general"
    target = next(t for t in w.session.targets() if t.channel == "random")
    w.session.jump(target)
    assert w.session.channel == "random"
    assert w.header_title.text().endswith("random")
