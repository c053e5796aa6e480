"""The invite dialog: how long the link works and for how many people, the link with a copy button, and its QR code."""

from __future__ import annotations

from collections.abc import Callable

import qrcode
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from app.errors import HubbubError

from ..state.text import INVITE_EXPIRY, invite_terms
from .dialogs import title_label

MakeLink = Callable[[float | None, int], str]  # (valid seconds or None for never, uses) -> a hubbub:// link


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
    """An invite link for a room (7 days, single use, until the inviter picks other terms and makes a new one)."""

    def __init__(self, room_name: str, make_link: MakeLink, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Invite to {room_name}")
        self.make_link = make_link
        self.link = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 16)
        self.heading = title_label(f"Invite friends to {room_name}", "Send them this link, or let them scan the code.")
        layout.addWidget(self.heading)
        terms = QHBoxLayout()
        self.expiry = QComboBox(self)
        for label, seconds in INVITE_EXPIRY:
            self.expiry.addItem(f"Expires after {label.lower()}" if seconds else "Never expires", seconds)
        self.expiry.setCurrentIndex(2)
        self.uses = QSpinBox(self)
        self.uses.setRange(1, 1000)
        self.uses.setSpecialValueText("Single use")
        self.uses.setSuffix(" uses")
        self.uses.setToolTip("How many people can join with this link")
        self.renew = QPushButton("New link", self)
        self.renew.setToolTip("Make a link with these terms (links made before keep theirs)")
        self.renew.clicked.connect(self.new_link)
        terms.addWidget(self.expiry, 1)
        terms.addWidget(self.uses)
        terms.addWidget(self.renew)
        layout.addLayout(terms)
        self.terms = QLabel(self)
        self.terms.setObjectName("Muted")
        self.terms.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.terms)
        self.qr = QLabel(self)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.qr)
        row = QHBoxLayout()
        self.field = QLineEdit(self)
        self.field.setReadOnly(True)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("Primary")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.field, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)

    def choose(self, valid_seconds: float | None, uses: int) -> None:
        """Set the terms the next link gets (as the pickers would)."""
        self.expiry.setCurrentIndex(self.expiry.findData(valid_seconds))
        self.uses.setValue(uses)

    def new_link(self) -> bool:
        """Make a link with the chosen terms; a refusal is shown in the dialog. Returns whether one was made."""
        seconds, uses = self.expiry.currentData(), self.uses.value()
        try:
            self.link = self.make_link(seconds, uses)
        except HubbubError as exc:
            self.terms.setText(str(exc))
            return False
        self.field.setText(self.link)
        self.field.setCursorPosition(0)
        self.qr.setPixmap(qr_pixmap(self.link, 4))
        self.terms.setText(invite_terms(seconds, uses))
        self.copy_button.setText("Copy")
        return True

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.link)
        self.copy_button.setText("Copied")
