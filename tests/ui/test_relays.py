"""The Relays tab of room settings: an admin adds and removes relays (saved as room state), a member only reads,
junk gets one sentence, and each row says whether the running node is connected."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from app.relay.settings import room_relays, set_profile_relays, set_room_relays
from tests.relay_app_helpers import club
from ui.state.relays import describe
from ui.widgets.main_window import MainWindow
from ui.widgets.room_settings import RoomSettingsDialog

A, B = "hubbub-relay://a.example:7447", "hubbub-relay+tls://b.example"


def test_an_admin_adds_and_removes_relays_and_saves_them(qtbot: object, window: MainWindow) -> None:
    room = window.session.create_room("Party")
    status = [{"url": A, "connected": True, "turn": True, "error": ""}]
    dialog = RoomSettingsDialog(room, window, lambda: status)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    tab = dialog.relays
    assert tab.list.count() == 0 and tab.add_button.isEnabled()
    qtbot.keyClicks(tab.address, "ftp://nope")  # type: ignore[attr-defined]
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert tab.message.text().endswith(".") and "\n" not in tab.message.text() and tab.list.count() == 0
    tab.address.setText(A)
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    tab.address.setText(B)
    tab.address.returnPressed.emit()
    assert [tab.list.item(i).text().split()[0] for i in range(tab.list.count())] == [A, B]
    assert "connected, TURN" in tab.list.item(0).text() and "not in use yet" in tab.list.item(1).text()
    tab.address.setText(A)
    tab.add()
    assert "already uses" in tab.message.text()
    assert room_relays(room) == []  # nothing is written before Save
    tab.list.setCurrentRow(1)
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert tab.list.count() == 1
    dialog.accept()
    assert room_relays(room) == [A]
    again = RoomSettingsDialog(room, window)
    qtbot.addWidget(again)  # type: ignore[attr-defined]
    assert again.relays.list.count() == 1 and "used while the app is online" in again.relays.list.item(0).text()


def test_a_member_sees_the_relays_but_cannot_change_them(qtbot: object, tmp_path: Path) -> None:
    alice, carol = club(tmp_path, "alice", "carol")
    try:
        set_room_relays(alice.find_room("Club"), [A])
        alice.export(alice.find_room("Club"), "log", tmp_path / "again.log")
        carol.import_log(tmp_path / "again.log")
        set_profile_relays(carol.profile, [B])
        dialog = RoomSettingsDialog(carol.find_room("Club"))
        qtbot.addWidget(dialog)  # type: ignore[attr-defined]
        tab = dialog.relays
        texts = [tab.list.item(i).text() for i in range(tab.list.count())]
        assert texts[0].startswith(A) and texts[1].startswith(B) and "your profile" in texts[1]
        assert not tab.add_button.isEnabled() and not tab.remove_button.isEnabled() and not tab.address.isEnabled()
        assert "Only admins" in tab.message.text()
    finally:
        alice.close()
        carol.close()


def test_what_a_row_says() -> None:
    assert describe(A, None) == "used while the app is online"
    assert describe(A, []) == "not in use yet"
    assert describe(A, [{"url": A, "connected": False, "error": "The relay refused."}]) == "not connected: The relay refused."
    assert describe(A, [{"url": A, "connected": False, "error": ""}]) == "connecting…"
    assert describe(A, [{"url": A, "connected": True, "turn": False}]) == "connected"
