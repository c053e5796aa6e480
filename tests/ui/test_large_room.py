"""A 100k-message channel opens with one page loaded and never stalls the UI thread over 100 ms."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.widgets.main_window import MainWindow
from ui.widgets.message_model import PAGE

from .conftest import SyntheticChannel

STALL_LIMIT_MS = 100.0


class Heartbeat:
    """A 5 ms timer on the UI thread; the longest gap between its ticks is the worst stall."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, (now - self.last) * 1000)
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()


def test_opening_100k_messages_stays_responsive(qtbot: object, window: MainWindow) -> None:
    w = window
    source = SyntheticChannel(100_000)
    beat = Heartbeat()
    beat.start()
    qtbot.wait(30)  # type: ignore[attr-defined]
    w.stack.setCurrentWidget(w.chat)
    w.model.set_channel(source, "general")
    QApplication.processEvents()
    w.view.viewport().repaint()
    assert w.model.rowCount() == PAGE  # only the newest page is read
    assert w.model.message_at(PAGE - 1).id.endswith(":99999")
    qtbot.waitUntil(w.view.at_bottom, timeout=2000)  # type: ignore[attr-defined]
    # scroll up through several pages, as someone reading back would
    for _ in range(8):
        w.view.verticalScrollBar().setValue(0)
        qtbot.wait(60)  # type: ignore[attr-defined]
    assert PAGE * 3 <= w.model.rowCount() < 5_000
    assert not w.view.at_bottom()
    beat.timer.stop()
    assert beat.worst < STALL_LIMIT_MS, f"the UI thread stalled for {beat.worst:.0f} ms"


def test_jumping_to_an_old_reply_loads_only_what_it_needs(qtbot: object, window: MainWindow) -> None:
    w = window
    w.stack.setCurrentWidget(w.chat)
    w.model.set_channel(SyntheticChannel(100_000), "general")
    assert w.view.jump_to("aa_aaaaaa:99000")
    assert 1_000 <= w.model.rowCount() < 2_000
