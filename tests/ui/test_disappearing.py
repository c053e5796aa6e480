"""Disappearing messages: a timer in the composer, a channel setting for admins, a countdown mark on such messages,
and the message leaving the list when its time runs out."""

from __future__ import annotations

import time

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from ui.state.text import countdown, duration
from ui.widgets.main_window import MainWindow
from ui.widgets.room_settings import RoomSettingsDialog


def _painted_top_right(w: MainWindow, row: int) -> int:
    """How many colours the painter puts in the top right corner of a row (1: only its background)."""
    index = w.model.index(row)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, w.view.viewport().width(), w.delegate.sizeHint(option, index).height())
    image = QImage(option.rect.size(), QImage.Format.Format_ARGB32)
    image.fill(QColor(w.theme.chat))
    painter = QPainter(image)
    w.delegate.paint(painter, option, index)
    painter.end()
    top = 2 if w.model.row(row).grouped else 12
    return len({image.pixelColor(x, y).name() for x in range(option.rect.width() - 70, option.rect.width() - 20)
                for y in range(top, top + 20)})


def test_the_composer_timer_sends_a_disappearing_message_with_a_countdown(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Party")
    menu = w.composer.timer_button.menu()
    next(a for a in menu.actions() if a.text() == "5 minutes").trigger()
    assert w.composer.timer_button.isChecked() and "5 minutes" in w.composer.timer_button.toolTip()
    qtbot.keyClicks(w.composer.edit, "this goes soon")  # type: ignore[attr-defined]
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    sent = room.history("general")[0]
    assert sent.ttl == 300
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    row = w.model.row(0)
    assert row.expires == sent.ts + 300_000
    assert countdown(row.expires - time.time() * 1000) in ("4m", "5m")
    # the mark is painted at the row's top right: some pixels there differ from the row's background
    assert _painted_top_right(w, 0) > 1, "no countdown mark"
    room.post("general", "this one stays")
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=2000)  # type: ignore[attr-defined]
    assert _painted_top_right(w, 1) == 1, "a mark on a message that stays"
    next(a for a in menu.actions() if a.text() == "Off").trigger()
    assert not w.composer.timer_button.isChecked()


def test_a_message_leaves_the_list_when_its_time_runs_out(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Party")
    room.post("general", "stays")
    room.post("general", "goes", ttl=1.0)
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=2000)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: [m.text for m in w.model.messages()] == ["stays"], timeout=4000)  # type: ignore[attr-defined]


def test_an_admin_sets_a_channel_timer(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Party")
    room.post("general", "hello")
    dialog = RoomSettingsDialog(room, w)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.channel_list.setCurrentRow(0)
    assert dialog.ttl.isEnabled() and dialog.ttl.currentText() == "Off"
    index = dialog.ttl.findText("1 day")
    dialog.ttl.setCurrentIndex(index)
    dialog.ttl.activated.emit(index)
    assert room.find_channel("general").ttl == 86400
    assert "disappearing after 1 day" in dialog.channel_list.item(0).text()
    w.session.select_channel("general")
    assert w.header_topic.text().startswith("Messages disappear after 1 day")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    assert w.model.row(0).expires == w.model.message_at(0).ts + 86400_000
    dialog.ttl.activated.emit(0)
    assert room.find_channel("general").ttl is None
    assert duration(3600) == "1 hour" and duration(7 * 86400) == "1 week" and countdown(45_000) == "45s"
