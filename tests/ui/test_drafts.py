"""Drafts stay in their conversation: text typed in one room never travels to another (or to a DM), and comes back
after switching away and after a restart."""

from __future__ import annotations

import os
import stat

from nacl.signing import SigningKey
from PySide6.QtCore import Qt

from app.drafts import DRAFTS_FILE, Drafts
from app.node import Node
from ui.desktop import build_window
from ui.widgets.main_window import MainWindow


def _dm_with_bob(node: Node) -> bytes:
    room = node.create_room("alice & bob")
    room.update_settings(direct=True)
    room.add_member(bytes(SigningKey.generate().verify_key), name="bob")
    return room.id


def test_a_draft_stays_in_its_room_and_enter_elsewhere_sends_nothing(qtbot: object, window: MainWindow, node: Node) -> None:
    w = window
    party = w.session.create_room("Party")
    party.create_channel("random")
    dm = _dm_with_bob(node)
    w.session.select_room(party.id)
    qtbot.keyClicks(w.composer.edit, "meet at the side door")  # type: ignore[attr-defined]
    # Over to the DM: its composer is empty, and Enter there must not send the room's text.
    w.session.select_room(dm)
    assert w.session.room is not None and w.session.room.is_direct()
    assert w.composer.edit.toPlainText() == ""
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert node.room(dm).history("general") == []
    qtbot.keyClicks(w.composer.edit, "just for bob")  # type: ignore[attr-defined]
    # Another channel of the room has its own (empty) draft too.
    w.session.select_room(party.id)
    assert w.composer.edit.toPlainText() == "meet at the side door"
    w.session.select_channel("random")
    assert w.composer.edit.toPlainText() == ""
    w.session.select_channel("general")
    assert w.composer.edit.toPlainText() == "meet at the side door"
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert [m.text for m in party.history("general")] == ["meet at the side door"]
    assert w.composer.edit.toPlainText() == ""
    w.session.select_room(dm)
    assert w.composer.edit.toPlainText() == "just for bob"
    assert node.room(dm).history("general") == []


def test_drafts_survive_a_restart_and_an_edit(qtbot: object, node: Node) -> None:
    w = build_window(node)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    room = w.session.create_room("Party")
    qtbot.keyClicks(w.composer.edit, "sent")  # type: ignore[attr-defined]
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    qtbot.keyClicks(w.composer.edit, "half a thought")  # type: ignore[attr-defined]
    # Editing a sent message puts the draft aside and gives it back afterwards.
    w.composer_state.start_edit(room.history("general")[0])
    assert w.composer.edit.toPlainText() == "sent"
    w.composer.edit.clear()
    qtbot.keyClicks(w.composer.edit, "sent, edited")  # type: ignore[attr-defined]
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    assert room.history("general")[0].text == "sent, edited"
    assert w.composer.edit.toPlainText() == "half a thought"
    w.close()
    path = node.profile.path / DRAFTS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert Drafts(node.profile.path).get(room.id, "general") == "half a thought"
    again = build_window(node)
    qtbot.addWidget(again)  # type: ignore[attr-defined]
    assert again.session.room is not None and again.session.room.id == room.id
    assert again.composer.edit.toPlainText() == "half a thought"
    again.close()


def test_a_damaged_drafts_file_is_read_as_no_drafts(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / DRAFTS_FILE).write_text("{not json", encoding="utf-8")
    drafts = Drafts(folder)
    assert drafts.get(b"\x01", "general") == ""
    drafts.set(b"\x01", "general", "hello")
    drafts.save()
    assert Drafts(folder).get(b"\x01", "general") == "hello"
