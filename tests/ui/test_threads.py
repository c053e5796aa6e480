"""Threads: "Reply in thread" opens a pane beside the channel; replies go into the thread, not the channel; the root
shows "N replies · last reply …" and a click on that line opens the thread."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from ui.state.text import ago, thread_summary
from ui.widgets.main_window import MainWindow


def _action(menu: QMenu, text: str) -> None:
    next(a for a in menu.actions() if a.text() == text).trigger()


def test_reply_in_thread_and_the_summary_under_the_root(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Party")
    root = room.post("general", "who brings the switch?")
    room.post("general", "unrelated chatter")
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=2000)  # type: ignore[attr-defined]
    _action(w.message_menu(w.model.message_at(0)), "Reply in thread")
    pane = w.thread_pane
    assert pane.isVisible() and pane.root == root and not w.members.isVisible()
    qtbot.waitUntil(lambda: pane.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    qtbot.keyClicks(pane.composer.edit, "I do")  # type: ignore[attr-defined]
    qtbot.keyClick(pane.composer.edit, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    reply = next(m for m in room.history("general") if m.text == "I do")
    assert reply.thread == root
    qtbot.waitUntil(lambda: pane.model.rowCount() == 2, timeout=2000)  # type: ignore[attr-defined]
    assert [m.text for m in w.model.messages()] == ["who brings the switch?", "unrelated chatter"]  # not a channel row
    assert w.model.row(0).thread == (1, reply.ts)
    room.post("general", "me too", thread=root)  # another reply (as if from another member)
    qtbot.waitUntil(lambda: pane.model.rowCount() == 3, timeout=2000)  # type: ignore[attr-defined]
    count, last = w.model.row(0).thread or (0, 0.0)
    assert count == 2 and thread_summary(count, last, time.time() * 1000) == "2 replies · last reply just now"
    assert "Reply in thread" not in [a.text() for a in w.messages.menu(pane.model.message_at(1), in_thread=True).actions()]
    pane.close_button.click()
    assert not pane.isVisible() and w.members.isVisible()
    # a click on the summary line opens the thread again
    w.view.scrollToTop()
    qtbot.wait(30)  # type: ignore[attr-defined]
    row = w.model.row(0)
    g = w.delegate.geometry(row, w.view.viewport().width())
    assert g.thread is not None
    rect = w.view.visualRect(w.model.index(0))
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.topLeft() + g.thread.center())  # type: ignore[attr-defined]
    assert pane.isVisible() and pane.root == root
    room.create_channel("random")
    w.session.select_channel("random")
    assert not pane.isVisible()


def test_ago_reads_like_a_chat_app() -> None:
    now = 1_700_000_000_000.0
    assert ago(now - 20_000, now) == "just now"
    assert ago(now - 5 * 60_000, now) == "5 min ago"
    assert ago(now - 3 * 3600_000, now) == "3 h ago"
    assert ago(now - 30 * 3600_000, now) == "yesterday"
    assert ago(now - 4 * 86400_000, now) == "4 days ago"
