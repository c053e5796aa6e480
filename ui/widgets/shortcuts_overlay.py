"""The keyboard shortcuts help (Ctrl+/): a card over the dimmed window listing every shortcut, as Discord and Slack do."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from ..state.shortcuts import help_rows


class ShortcutsOverlay(QWidget):
    """Covers its parent; a click or Esc closes it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("ShortcutsOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card = QFrame(self)
        self.card.setObjectName("ShortcutsCard")
        self.card.setMinimumWidth(460)
        lay = QVBoxLayout(self.card)
        lay.setContentsMargins(24, 20, 24, 20)
        self.text = QLabel(self.card)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.text)
        outer.addWidget(self.card)
        self.host = parent
        parent.installEventFilter(self)
        self.hide()

    def open(self, push_to_talk: str | None) -> None:
        rows = []
        for group, entries in help_rows(push_to_talk):
            rows.append(f"<tr><td colspan=2 style='padding-top:10px'><b>{escape(group.upper())}</b></td></tr>")
            rows += [f"<tr><td style='padding:3px 18px 3px 0'><code>{escape(keys)}</code></td><td>{escape(what)}</td></tr>"
                     for keys, what in entries]
        self.text.setText("<div style='font-size:14pt; font-weight:700'>Keyboard shortcuts</div>"
                          f"<table>{''.join(rows)}</table>")
        self.setGeometry(self.host.rect())
        self.show()
        self.raise_()
        self.setFocus()

    def toggle(self, push_to_talk: str | None) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.open(push_to_talk)

    def lines(self) -> str:
        """The overlay's text, plain (tests read it)."""
        return self.text.text()

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 150))
        p.end()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self.hide()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Escape:
            self.hide()
        else:
            super().keyPressEvent(e)

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if e.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self.host.rect())
        return False
