"""The Relays tab of room settings: the room's relays and their state, an address to add, one to remove."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from app.relay.settings import profile_relays
from app.room import Room

from ..state.relays import ABOUT, RelayEdit

StatusSource = Callable[[], "list[dict[str, Any]] | None"]


class RelaysTab(QWidget):
    """Edits `RelayEdit`; the dialog's Save applies it. Read-only unless `admin`."""

    def __init__(self, room: Room, admin: bool, status: StatusSource | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = RelayEdit(room, profile_relays(room.profile))
        self.status_source = status
        layout = QVBoxLayout(self)
        about = QLabel(ABOUT)
        about.setWordWrap(True)
        about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(about)
        self.list = QListWidget()
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.address = QLineEdit()
        self.address.setPlaceholderText("hubbub-relay://relay.example.org:7447")
        self.address.returnPressed.connect(self.add)
        self.add_button = QPushButton("Add relay")
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove)
        for w in (self.address, self.add_button, self.remove_button):
            row.addWidget(w)
        layout.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        for w in (self.address, self.add_button, self.remove_button):
            w.setEnabled(admin)
        if not admin:
            self.message.setText("Only admins can change the room's relays.")
        self.fill()
        self.timer = QTimer(self)  # the connection state changes while the dialog is open
        self.timer.timeout.connect(self.fill)
        self.timer.start(1000)

    def fill(self) -> None:
        current = self.list.currentItem()
        chosen = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.list.clear()
        status = self.status_source() if self.status_source is not None else None
        for r in self.edit.rows(status):
            item = QListWidgetItem(r.text)
            item.setData(Qt.ItemDataRole.UserRole, r.url if r.source == "room" else None)
            if r.source != "room":
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.list.addItem(item)
            if chosen is not None and r.url == chosen:
                self.list.setCurrentItem(item)

    def add(self) -> None:
        problem = self.edit.add(self.address.text())
        self.message.setText(problem or "Added; Save to make it the room's relay for every member.")
        if problem is None:
            self.address.clear()
            self.fill()

    def remove(self) -> None:
        item = self.list.currentItem()
        url = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if not url:
            self.message.setText("Choose one of the room's relays first.")
            return
        self.edit.remove(str(url))
        self.message.setText("Removed; Save to stop using it.")
        self.fill()
