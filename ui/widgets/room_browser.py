"""The room browser: public rooms announced on the LAN, to join with one click."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ..services import PublicRoom
from ..state.public_rooms import browser_lines
from .dialogs import dialog_buttons, title_label


class RoomBrowser(QDialog):
    """Public rooms announced on the LAN."""

    join_requested = Signal(bytes)

    def __init__(self, rooms: list[PublicRoom], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Public rooms on this network")
        self.setMinimumSize(480, 380)
        layout = QVBoxLayout(self)
        layout.addWidget(title_label("Public rooms nearby", "Rooms that members on your LAN have made public."))
        self.list = QListWidget(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        box = dialog_buttons(self, "Join")
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
