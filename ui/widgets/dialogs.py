"""The dialogs: first run, create room, invite (link + QR), join, room browser, quick switcher, preferences."""

from __future__ import annotations

from collections.abc import Callable

import qrcode
from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

from ..services import PublicRoom
from ..state.public_rooms import browser_lines
from ..state.switcher import Target, filter_targets


def _title(text: str, sub: str = "") -> QLabel:
    label = QLabel(f"<div style='font-size:15pt; font-weight:700'>{text}</div>"
                   + (f"<div style='margin-top:6px'>{sub}</div>" if sub else ""))
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def _buttons(dialog: QDialog, ok: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    button = box.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
    button.setObjectName("Primary")
    button.setDefault(True)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class NameDialog(QDialog):
    """Ask for one line of text (display name, room name), with inline validation."""

    def __init__(self, title: str, sub: str, placeholder: str, ok: str, value: str = "", parent: QWidget | None = None,
                 validate: Callable[[str], str | None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        self.validate = validate
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 16)
        layout.setSpacing(12)
        layout.addWidget(_title(title, sub))
        self.field = QLineEdit(value, self)
        self.field.setPlaceholderText(placeholder)
        self.field.setMaxLength(100)
        layout.addWidget(self.field)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #f23f43")
        self.error.hide()
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, ok))

    @property
    def value(self) -> str:
        return self.field.text().strip()

    def accept(self) -> None:
        problem = "Please type something." if not self.value else (self.validate(self.value) if self.validate else None)
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()


def first_run_dialog(parent: QWidget | None = None) -> NameDialog:
    """Welcome: choose the name others will see (the identity key is made silently)."""
    return NameDialog("Welcome to Hubbub", "Chat and talk with your group, peer to peer — no server needed.<br>"
                      "What should people call you?", "Your display name", "Continue", parent=parent,
                      validate=lambda v: "A display name can be at most 64 characters." if len(v) > 64 else None)


def qr_pixmap(text: str, scale: int = 5, dark: str = "#000000", light: str = "#ffffff") -> QPixmap:
    """A QR code of `text` painted into a pixmap (no Pillow needed)."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    img = QImage(n * scale, n * scale, QImage.Format.Format_RGB32)
    img.fill(QColor(light))
    p = QPainter(img)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(dark))
    for y, line in enumerate(matrix):
        for x, on in enumerate(line):
            if on:
                p.drawRect(QRect(x * scale, y * scale, scale, scale))
    p.end()
    return QPixmap.fromImage(img)


class InviteDialog(QDialog):
    """The invite link for a room, a copy button and the same link as a QR code."""

    def __init__(self, room_name: str, link: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Invite to {room_name}")
        self.link = link
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 16)
        layout.addWidget(_title(f"Invite friends to {room_name}", "Send them this link, or let them scan the code. "
                                "It works once and expires in 7 days."))
        self.qr = QLabel(self)
        self.qr.setPixmap(qr_pixmap(link, 4))
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.qr)
        row = QHBoxLayout()
        self.field = QLineEdit(link, self)
        self.field.setReadOnly(True)
        self.field.setCursorPosition(0)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("Primary")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.field, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.link)
        self.copy_button.setText("Copied")


class JoinDialog(QDialog):
    """Paste an invite link; the join itself runs on the asyncio loop and reports back here."""

    join_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Join a room")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 16)
        layout.addWidget(_title("Join a room", "Paste the hubbub:// invite link you were given."))
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("hubbub://join/…")
        layout.addWidget(self.field)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.box = _buttons(self, "Join")
        layout.addWidget(self.box)

    def accept(self) -> None:
        link = self.field.text().strip()
        if not link:
            self.show_error("Paste an invite link first.")
            return
        self.status.setStyleSheet("")
        self.status.setText("Joining…")
        self.join_requested.emit(link)

    def show_error(self, text: str) -> None:
        self.status.setStyleSheet("color: #f23f43")
        self.status.setText(text)

    def done_joining(self) -> None:
        super().accept()


class RoomBrowser(QDialog):
    """Public rooms announced on the LAN."""

    join_requested = Signal(bytes)

    def __init__(self, rooms: list[PublicRoom], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Public rooms on this network")
        self.setMinimumSize(480, 380)
        layout = QVBoxLayout(self)
        layout.addWidget(_title("Public rooms nearby", "Rooms that members on your LAN have made public."))
        self.list = QListWidget(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        box = _buttons(self, "Join")
        layout.addWidget(box)
        self.set_rooms(rooms)

    def set_rooms(self, rooms: list[PublicRoom]) -> None:
        self.list.clear()
        for line in browser_lines(rooms):
            item = QListWidgetItem(line.text())
            item.setData(Qt.ItemDataRole.UserRole, line.room_id)
            if line.warning:
                item.setForeground(QColor("#f0b232"))
            self.list.addItem(item)
        if not rooms:
            self.status.setText("No public rooms are announced on this network right now. Rooms appear here as peers are found.")

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.join_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        super().accept()


class QuickSwitcher(QDialog):
    """Ctrl+K: type to find a room or channel, Enter to go there."""

    chosen = Signal(object)  # Target

    def __init__(self, targets: list[Target], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Quick switcher")
        self.setMinimumSize(520, 360)
        self.targets = targets
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Where would you like to go?")
        self.field.textChanged.connect(self._filter)
        self.field.installEventFilter(self)
        self.list = QListWidget(self)
        self.list.itemActivated.connect(self._go)
        layout.addWidget(self.field)
        layout.addWidget(self.list, 1)
        self._filter("")

    def _filter(self, text: str) -> None:
        self.list.clear()
        for t in filter_targets(self.targets, text):
            item = QListWidgetItem(t.label + (f"     {t.unread} unread" if t.unread else ""))
            item.setData(Qt.ItemDataRole.UserRole, t)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def eventFilter(self, obj: object, e: object) -> bool:
        if isinstance(e, QKeyEvent) and e.type() == QKeyEvent.Type.KeyPress:
            if e.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if e.key() == Qt.Key.Key_Down else -1
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, self.list.currentRow() + step)))
                return True
            if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._go(item)
                return True
        return False

    def _go(self, item: QListWidgetItem) -> None:
        self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))
        self.accept()


class PreferencesDialog(QDialog):
    """My display name, the theme, and (when given) the voice settings."""

    def __init__(self, name: str, theme: str, parent: QWidget | None = None, extra: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(400)
        form = QFormLayout(self)
        self.name = QLineEdit(name, self)
        self.theme = QComboBox(self)
        self.theme.addItems(["dark", "light"])
        self.theme.setCurrentText(theme)
        form.addRow("Display name", self.name)
        form.addRow("Theme", self.theme)
        if extra is not None:
            form.addRow(extra)
        form.addRow(_buttons(self, "Save"))
