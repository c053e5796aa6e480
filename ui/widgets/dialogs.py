"""The dialogs: first run, create room, join, quick switcher, preferences; and a confirmation box."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from ..state.switcher import Target, filter_targets


def title_label(text: str, sub: str = "") -> QLabel:
    label = QLabel(f"<div style='font-size:15pt; font-weight:700'>{text}</div>"
                   + (f"<div style='margin-top:6px'>{sub}</div>" if sub else ""))
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def dialog_buttons(dialog: QDialog, ok: str) -> QDialogButtonBox:
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
        layout.addWidget(title_label(title, sub))
        self.field = QLineEdit(value, self)
        self.field.setPlaceholderText(placeholder)
        self.field.setMaxLength(100)
        layout.addWidget(self.field)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #f23f43")
        self.error.hide()
        layout.addWidget(self.error)
        layout.addWidget(dialog_buttons(self, ok))

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


def confirm(parent: QWidget | None, title: str, text: str, ok: str) -> bool:
    """Ask before something that cannot be undone; True when the person chose `ok`."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    button = box.addButton(ok, QMessageBox.ButtonRole.DestructiveRole)
    button.setObjectName("Danger")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is button


def first_run_dialog(parent: QWidget | None = None) -> NameDialog:
    """Welcome: choose the name others will see (the identity key is made silently)."""
    return NameDialog("Welcome to Hubbub", "Chat and talk with your group, peer to peer — no server needed.<br>"
                      "What should people call you?", "Your display name", "Continue", parent=parent,
                      validate=lambda v: "A display name can be at most 64 characters." if len(v) > 64 else None)


class JoinDialog(QDialog):
    """Paste an invite link; the join itself runs on the asyncio loop and reports back here."""

    join_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, link: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Join a room")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 16)
        layout.addWidget(title_label("Join a room", "Paste the hubbub:// invite link you were given."))
        self.field = QLineEdit(link, self)
        self.field.setPlaceholderText("hubbub://join/…")
        layout.addWidget(self.field)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.box = dialog_buttons(self, "Join")
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
        form.addRow(dialog_buttons(self, "Save"))
