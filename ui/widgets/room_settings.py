"""Room settings for admins: name, topic, public or private, channels, members' roles and relays."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPushButton, QTabWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from app.errors import HubbubError
from app.models import Role
from app.room import Room

from .. import icons
from ..state.text import CHANNEL_TTL, duration
from .relay_tab import RelaysTab, StatusSource

ROLES = ["member", "moderator", "admin"]


class RoomSettingsDialog(QDialog):
    """Edit a room; everything is read-only unless I am an admin."""

    def __init__(self, room: Room, parent: QWidget | None = None, relay_status: StatusSource | None = None) -> None:
        super().__init__(parent)
        self.room = room
        self.setWindowTitle(f"{room.name} — settings")
        self.setMinimumSize(560, 440)
        role = room.my_role()
        self.admin = role is not None and role >= Role.ADMIN
        layout = QVBoxLayout(self)
        tabs = QTabWidget(self)
        layout.addWidget(tabs, 1)
        general = QWidget()
        form = QFormLayout(general)
        settings = room.view.settings()
        self.name = QLineEdit(room.name)
        self.topic = QLineEdit(str(settings.get("topic", "") or ""))
        self.public = QCheckBox("Public: announce this room on the LAN so anyone nearby can find and join it")
        self.public.setChecked(room.is_public())
        self.tags = QLineEdit(" ".join(settings.get("tags", []) or []))
        self.tags.setPlaceholderText("games lan-party")
        form.addRow("Name", self.name)
        form.addRow("Topic", self.topic)
        form.addRow("Tags", self.tags)
        form.addRow("", self.public)
        tabs.addTab(general, "General")
        chans = QWidget()
        cl = QVBoxLayout(chans)
        self.channel_list = QListWidget()
        cl.addWidget(self.channel_list, 1)
        add = QHBoxLayout()
        self.new_channel = QLineEdit()
        self.new_channel.setPlaceholderText("new-channel")
        self.new_kind = QComboBox()
        self.new_kind.addItems(["text", "voice"])
        self.new_category = QLineEdit()
        self.new_category.setPlaceholderText("category (optional)")
        add_button = QPushButton("Add channel")
        add_button.clicked.connect(self.add_channel)
        for w in (self.new_channel, self.new_kind, self.new_category, add_button):
            add.addWidget(w)
        cl.addLayout(add)
        ttl_row = QHBoxLayout()
        self.ttl = QComboBox()
        for label, seconds in CHANNEL_TTL:
            self.ttl.addItem(label, seconds)
        self.ttl.setToolTip("Messages in the selected channel disappear this long after they were sent, on every "
                            "member's device; older ones go at once")
        self.ttl.activated.connect(self.set_channel_ttl)
        ttl_row.addWidget(QLabel("Disappearing messages in the selected channel"))
        ttl_row.addWidget(self.ttl)
        cl.addLayout(ttl_row)
        self.channel_list.currentRowChanged.connect(self._show_ttl)
        tabs.addTab(chans, "Channels")
        self.members = QTableWidget(0, 2)
        self.members.setHorizontalHeaderLabels(["Member", "Role"])
        self.members.horizontalHeader().setStretchLastSection(True)
        self.members.verticalHeader().hide()
        tabs.addTab(self.members, "Members && roles")
        self.relays = RelaysTab(room, self.admin, relay_status)
        tabs.addTab(self.relays, "Relays")
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = box.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("Primary")
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self._fill()
        if not self.admin:
            self.status.setText("Only admins can change the room's settings.")
            widgets: list[QWidget] = [self.name, self.topic, self.public, self.tags, self.new_channel, add_button, self.save_button,
                                      self.ttl]
            for widget in widgets:
                widget.setEnabled(False)

    def _fill(self) -> None:
        self.channel_list.clear()
        for c in self.room.channels():
            item = QListWidgetItem(icons.icon("text" if c.kind == "text" else "voice"), c.name + (f"   ({c.category})" if c.category else "")
                                   + (f"   · disappearing after {duration(c.ttl)}" if c.ttl else ""))
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.channel_list.addItem(item)
        members = self.room.members()
        self.members.setRowCount(len(members))
        self._role_boxes: list[tuple[bytes, str, QComboBox]] = []
        for i, m in enumerate(members):
            self.members.setItem(i, 0, QTableWidgetItem(f"{m.name}  ·  {m.short}"))
            current = m.role.name.lower()
            if current == "owner" or not self.admin or m.key == self.room.me:
                self.members.setItem(i, 1, QTableWidgetItem(current))
                continue
            box = QComboBox()
            box.addItems(ROLES)
            box.setCurrentText(current)
            self.members.setCellWidget(i, 1, box)
            self._role_boxes.append((m.key, current, box))

    def _show_ttl(self, row: int) -> None:
        channel = next((c for c in self.room.channels() if c.id == self._channel_at(row)), None)
        self.ttl.setEnabled(self.admin and channel is not None and channel.kind == "text")
        self.ttl.setCurrentIndex(max(0, self.ttl.findData(channel.ttl if channel else None)))

    def _channel_at(self, row: int) -> str:
        item = self.channel_list.item(row)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def set_channel_ttl(self, index: int) -> None:
        """Set the selected channel's disappearing-messages timer (0 turns it off)."""
        row = self.channel_list.currentRow()
        cid = self._channel_at(row)
        if not cid:
            return
        try:
            self.room.update_channel(cid, ttl=self.ttl.itemData(index) or 0)
        except HubbubError as exc:
            self.status.setText(str(exc))
            return
        self._fill()
        self.channel_list.setCurrentRow(row)

    def add_channel(self) -> None:
        try:
            self.room.create_channel(self.new_channel.text(), self.new_kind.currentText(), self.new_category.text().strip())
        except HubbubError as exc:
            self.status.setText(str(exc))
            return
        self.new_channel.clear()
        self._fill()

    def accept(self) -> None:
        try:
            settings = self.room.view.settings()
            tags = self.tags.text().split()
            if (self.name.text().strip() != self.room.name or self.topic.text() != (settings.get("topic") or "")
                    or self.public.isChecked() != self.room.is_public() or tags != list(settings.get("tags", []) or [])):
                self.room.update_settings(name=self.name.text(), topic=self.topic.text(), public=self.public.isChecked(), tags=tags)
            for key, before, box in self._role_boxes:
                if box.currentText() != before:
                    self.room.set_role(key, box.currentText())
            self.relays.edit.apply()
        except HubbubError as exc:
            self.status.setText(str(exc))
            return
        super().accept()
