"""UI test fixtures: offscreen Qt, a fresh profile per test, the real window over it, and a synthetic 100k-message channel."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QWidget  # noqa: E402

from app.models import Message  # noqa: E402
from app.node import Node  # noqa: E402
from app.profile import open_profile  # noqa: E402
from ui.desktop import build_window  # noqa: E402
from ui.widgets.main_window import MainWindow  # noqa: E402


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    n = Node(open_profile(tmp_path / "alice", display_name="alice"))
    yield n
    n.close()


@pytest.fixture
def window(qtbot: object, node: Node) -> Iterator[MainWindow]:
    w = build_window(node)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.show()
    yield w
    w.close()


def answer_dialog(kind: type[QDialog], act: Callable[[QDialog], None]) -> None:
    """Arrange for `act` to run on the next modal dialog of type `kind` once its exec() loop runs."""
    from PySide6.QtCore import QTimer

    def find() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, kind) and w.isVisible():
                act(w)
                return
        QTimer.singleShot(10, find)

    QTimer.singleShot(0, find)


class SyntheticChannel:
    """A channel of `n` messages made on demand, with the paging interface of a room view (for load tests)."""

    def __init__(self, n: int, start_ms: float = 1.7e12) -> None:
        self.n = n
        self.start_ms = start_ms

    def _msg(self, i: int) -> Message:
        author = ("aa_aaaaaa", "bb_bbbbbb", "cc_cccccc")[(i // 3) % 3]
        text = f"message number {i} with some **markdown** and `code`" + ("\n```\nblock\n```" if i % 50 == 0 else "")
        reactions = {"👍": [author]} if i % 7 == 0 else {}
        return Message(id=f"{author}:{i}", author=author, channel="general", text=text, ts=self.start_ms + i * 30_000,
                       reactions=reactions)

    def count(self, channel: str) -> int:
        return self.n

    def page(self, channel: str, limit: int, before: int | None = None, now_ms: float | None = None) -> list[Message]:
        end = self.n if before is None else max(0, min(before, self.n))
        return [self._msg(i) for i in range(max(0, end - limit), end)]

    def message(self, message_id: str, now_ms: float | None = None) -> Message | None:
        i = int(message_id.rsplit(":", 1)[1])
        return self._msg(i) if 0 <= i < self.n else None


def visible(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.isHidden()


def carry(src: Node, room_id: bytes, dst: Node, folder: Path) -> None:
    """Carry a room's signed log from one profile to another, as `hubbub export --format log` / `hubbub import` do."""
    path = folder / "carry.hubbub"
    src.export(src.room(room_id), "log", path)
    dst.import_log(path)
    path.unlink()
