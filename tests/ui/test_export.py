"""Export through the dialog: the file is written off the UI thread and the dialog reports it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ui.widgets.export_dialog import ExportDialog
from ui.widgets.main_window import MainWindow


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_export_through_the_dialog(qtbot: object, window: MainWindow, tmp_path: Path, fmt: str) -> None:
    room = window.session.create_room("Party")
    room.post("general", "bring snacks")
    dialog = ExportDialog(window.node, room, window)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.select_format(fmt)
    out = tmp_path / f"party.{fmt}"
    dialog.path.setText(str(out))
    with qtbot.waitSignal(dialog.finished_export, timeout=10_000):  # type: ignore[attr-defined]
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert dialog.progress.value() == 100
    assert "Saved" in dialog.status.text()
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["channels"][0]["messages"][0]["text"] == "bring snacks"
    else:
        assert "bring snacks" in text


def test_export_to_a_missing_folder_says_so(qtbot: object, window: MainWindow, tmp_path: Path) -> None:
    room = window.session.create_room("Party")
    dialog = ExportDialog(window.node, room, window)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.path.setText(str(tmp_path / "nope" / "x.html"))
    dialog.start()
    assert "does not exist" in dialog.status.text()
