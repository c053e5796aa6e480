"""`jump_to_result_ms` for `bench search`: a click on a search result in a 100k-message room until the message is painted.

The room (one channel of `per_room` messages from `bench.search_corpus`) is built once and cached beside the
search profile. Each sample searches for two words of an old message (far above the loaded page), clicks its
result in the real window's search pane, processes events and repaints the list; it counts only if the message
is then loaded, highlighted and inside the viewport. The same-run floor, `jump_floor_ms`, is opening the
channel's newest page and painting it (what any channel switch costs).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _query(text: str) -> str:
    """What someone remembering the message types: the phrase it starts with."""
    words = [w for w in text.lower().rstrip("?").split() if w.isalpha()]
    return '"' + " ".join(words[:6]) + '"'


def jump_ms(tmp: Path, quick: bool) -> dict[str, Any]:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.node import Node
    from app.profile import open_profile
    from bench.search import _cached, _copy
    from ui.state.session import Session
    from ui.widgets.main_window import MainWindow

    per_room = 5_000 if quick else 100_000
    profile = _copy(_cached(1, per_room), tmp / "jump")
    app = QApplication.instance() or QApplication([])
    node = Node(open_profile(profile, create=False))
    room = node.room(node.room_list()[0][0])
    node.searcher().prepare([room])
    window = MainWindow(Session(node))
    window.resize(1280, 800)
    window.show()
    window.session.select_room(room.id)
    window.session.select_channel("general")
    app.processEvents()
    count = room.view.count("general")
    rng = random.Random(5)
    times: list[float] = []
    floors: list[float] = []
    misses = 0
    for _ in range(5 if quick else 15):
        target = room.view.page("general", 1, before=rng.randrange(count // 20, count // 2))[0]
        if not window.search_pane.isVisible():
            window.finding.toggle_search()
        window.search_pane.box.setText(_query(target.text))
        window.search_pane.state.run()
        app.processEvents()
        item = next((it for it in window.search_pane.items() if it.data(Qt.ItemDataRole.UserRole + 7)[1] == target.id), None)
        if item is None:  # its words are common: more recent messages fill the results
            misses += 1
            continue
        window.search_pane.list.scrollToItem(item)
        app.processEvents()
        spot: QPoint = window.search_pane.list.visualItemRect(item).center()
        t = time.perf_counter()
        QTest.mouseClick(window.search_pane.list.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, spot)
        app.processEvents()
        window.view.viewport().repaint()
        elapsed = time.perf_counter() - t
        row = window.model.row_of(target.id)
        shown = row is not None and window.view.viewport().rect().intersects(window.view.visualRect(window.model.index(row)))
        if not shown:
            misses += 1
            continue
        times.append(elapsed * 1000)
        t = time.perf_counter()  # the floor: the newest page of the channel, opened and painted
        window.view.scrollToBottom()
        app.processEvents()
        window.view.viewport().repaint()
        floors.append((time.perf_counter() - t) * 1000)
    window.close()
    node.close()
    return {"jump_to_result_ms": statistics.median(times) if times else float("nan"),
            "jump_floor_ms": statistics.median(floors) if floors else float("nan"),
            "jump_samples": len(times), "jump_misses": misses, "jump_room_messages": per_room}
