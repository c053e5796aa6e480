"""Widgets for files: the composer's strip of files to attach (with "send original" per picture), the large
picture viewer, and the window-wide drop and paste handling."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QClipboard, QDropEvent, QImage, QKeyEvent, QKeySequence, QPixmap
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QFrame, QHBoxLayout, QLabel, QScrollArea, QToolButton,
                               QVBoxLayout, QWidget)

from .. import icons
from ..state.attachments import AttachmentsState

PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic")


class PendingStrip(QFrame):
    """The files the next message will carry, each with ✕ and, for pictures, "send original"."""

    def __init__(self, state: AttachmentsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PendingFiles")
        self.state = state
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(8, 4, 8, 4)
        self.row.setSpacing(8)
        state.pending_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        while self.row.count():
            item = self.row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for i, pending in enumerate(self.state.pending):
            chip = QFrame(self)
            chip.setObjectName("PendingFile")
            lay = QHBoxLayout(chip)
            lay.setContentsMargins(6, 2, 2, 2)
            mark = QLabel(chip)
            mark.setPixmap(icons.icon("file").pixmap(16, 16))
            lay.addWidget(mark)
            lay.addWidget(QLabel(pending.name, chip))
            if pending.path.suffix.lower() in PICTURE_SUFFIXES:
                original = QCheckBox("send original", chip)
                original.setToolTip("Keep the picture's metadata (where and with what it was taken)")
                original.setChecked(pending.original)
                original.toggled.connect(lambda on, i=i: self.state.set_original(i, on))
                lay.addWidget(original)
            remove = QToolButton(chip)
            icons.put(remove, "close")
            remove.setToolTip("Do not attach")
            remove.clicked.connect(lambda _=False, i=i: self.state.remove(i))
            lay.addWidget(remove)
            self.row.addWidget(chip)
        self.row.addStretch(1)
        self.setVisible(bool(self.state.pending))


class PictureDialog(QDialog):
    """A picture shown large (a click on its preview), with "Save as…"."""

    save_requested = Signal()

    def __init__(self, image: QImage, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("PictureViewer")
        layout = QVBoxLayout(self)
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        self.label = QLabel(area)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setPixmap(QPixmap.fromImage(image))
        area.setWidget(self.label)
        layout.addWidget(area, 1)
        save = QToolButton(self)
        save.setText("Save as…")
        save.clicked.connect(self.save_requested)
        layout.addWidget(save, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(min(1200, image.width() + 40), min(900, image.height() + 80))


def ask_save_path(parent: QWidget, name: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save as", str(Path.home() / name))
    return Path(path) if path else None


def ask_picture(parent: QWidget, title: str) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, str(Path.home()),
                                          "Pictures (*.jpg *.jpeg *.png *.webp *.gif *.bmp *.tif *.tiff)")
    return Path(path) if path else None


def ask_files(parent: QWidget) -> list[Path]:
    paths, _ = QFileDialog.getOpenFileNames(parent, "Attach files", str(Path.home()))
    return [Path(p) for p in paths]


class FileDropFilter(QObject):
    """Files dropped anywhere on the window are attached; Ctrl+V with an image on the clipboard attaches it."""

    def __init__(self, state: AttachmentsState, clipboard: QClipboard | None = None) -> None:
        super().__init__()
        self.state = state
        self.clipboard = clipboard

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        kind = e.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(e, QDropEvent):
            if e.mimeData().hasUrls():
                e.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop and isinstance(e, QDropEvent):
            paths = [Path(u.toLocalFile()) for u in e.mimeData().urls() if u.isLocalFile()]
            if paths:
                self.state.add_paths(paths)
                e.acceptProposedAction()
                return True
        elif kind == QEvent.Type.KeyPress and isinstance(e, QKeyEvent) and e.matches(QKeySequence.StandardKey.Paste):
            image = self.clipboard.image() if self.clipboard is not None else QImage()
            mime = self.clipboard.mimeData() if self.clipboard is not None else None
            if not image.isNull() and (mime is None or not mime.hasText()):
                self.state.add_image(image)
                return True
        return False
