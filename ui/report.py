"""What the desktop app showed, for tests and benchmarks: with HUBBUB_TEST_REPORT=FILE, one JSON line per window.

When the variable names a file, `install_from_env` watches the app's paint events and appends, the
first time each top-level window (the main window or a dialog) paints,

    {"event": "shown", "t": 1733050000.123, "window": "JoinDialog", "title": "Join a room",
     "fields": ["hubbub://join/..."]}

`t` is time.time() at that first paint (what `bench ui` calls cold start when it is the main
window), `fields` the text of the window's line edits. Without the variable nothing is installed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

ENV_VAR = "HUBBUB_TEST_REPORT"


class PaintReporter(QObject):
    """An application-wide event filter that notes each top-level window's first paint."""

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._seen: set[int] = set()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            top = watched.window()
            key = id(top)
            if key not in self._seen:
                self._seen.add(key)
                top.destroyed.connect(lambda *_: self._seen.discard(key))
                self.write({"event": "shown", "t": time.time(), "window": type(top).__name__,
                            "title": top.windowTitle(), "fields": [f.text() for f in top.findChildren(QLineEdit)]})
        return False

    def write(self, record: dict[str, object]) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError:
            pass  # a report that cannot be written must never stop the app


def install_from_env(app: QApplication) -> PaintReporter | None:
    """Start reporting to $HUBBUB_TEST_REPORT, if it is set."""
    target = os.environ.get(ENV_VAR)
    if not target:
        return None
    reporter = PaintReporter(Path(target), app)
    app.installEventFilter(reporter)
    return reporter
