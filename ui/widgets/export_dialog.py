"""The export dialog: pick a format and a file; the export runs on a worker thread with a progress bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from app.errors import HubbubError
from app.node import Node
from app.room import Room

FORMATS = [("html", "Web page (.html)"), ("md", "Markdown (.md)"), ("json", "JSON records (.json)"),
           ("log", "Signed log, verifiable and importable (.hubbub)")]
SUFFIX = {"html": ".html", "md": ".md", "json": ".json", "log": ".hubbub"}


class ExportWorker(QThread):
    """Runs `Node.export` off the UI thread; reports through signals only."""

    succeeded = Signal(int)
    failed = Signal(str)

    def __init__(self, node: Node, room: Room, fmt: str, out: Path) -> None:
        super().__init__()
        self.node, self.room, self.fmt, self.out = node, room, fmt, out

    def run(self) -> None:
        try:
            self.succeeded.emit(self.node.export(self.room, self.fmt, self.out))
        except HubbubError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must reach the user as a sentence, not kill the thread silently
            self.failed.emit(f"The export failed: {exc}.")


class ExportDialog(QDialog):
    """Export the current room's history."""

    finished_export = Signal(str)

    def __init__(self, node: Node, room: Room, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node, self.room = node, room
        self.worker: ExportWorker | None = None
        self.setWindowTitle(f"Export {room.name}")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        head = QLabel(f"<div style='font-size:14pt; font-weight:700'>Export “{room.name}”</div>"
                      "<div>Everything in its text channels, with replies, reactions, edits and pins.</div>")
        head.setWordWrap(True)
        layout.addWidget(head)
        form = QFormLayout()
        self.format = QComboBox(self)
        for key, label in FORMATS:
            self.format.addItem(label, key)
        self.format.currentIndexChanged.connect(self._suffix)
        self.path = QLineEdit(str(Path.home() / (self._safe(room.name) + ".html")), self)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("Format", self.format)
        form.addRow("Save to", row)
        layout.addLayout(form)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setObjectName("Primary")
        self.export_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    @staticmethod
    def _safe(name: str) -> str:
        return "".join(c if c.isalnum() or c in "-_ " else "_" for c in name).strip() or "room"

    def _suffix(self) -> None:
        p = Path(self.path.text())
        self.path.setText(str(p.with_suffix(SUFFIX[str(self.format.currentData())])))

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text())
        if name:
            self.path.setText(name)

    def select_format(self, fmt: str) -> None:
        self.format.setCurrentIndex([k for k, _ in FORMATS].index(fmt))

    def start(self) -> None:
        out = Path(self.path.text()).expanduser()
        if not out.parent.is_dir():
            self.status.setText(f"The folder {out.parent} does not exist.")
            return
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy: the node reports no finer progress
        self.status.setText("Exporting…")
        self.worker = ExportWorker(self.node, self.room, str(self.format.currentData()), out)
        self.worker.succeeded.connect(lambda n: self._done(out, n))
        self.worker.failed.connect(self._failed)
        self.worker.start()

    def _done(self, out: Path, size: int) -> None:
        self.progress.setRange(0, 100)
        self.progress.setValue(100)
        self.status.setText(f"Saved {size / 1024:.1f} KB to {out}.")
        self.export_button.setEnabled(True)
        self.finished_export.emit(str(out))

    def _failed(self, text: str) -> None:
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status.setText(text)
        self.export_button.setEnabled(True)

    def reject(self) -> None:
        if self.worker is not None and self.worker.isRunning():
            self.worker.wait()
        super().reject()
