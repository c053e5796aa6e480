"""The composer: a growing text box with reply/edit bar, `@` completion popup, disappearing-message timer and emoji button."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPlainTextEdit, QToolButton,
                               QVBoxLayout, QWidget)

from .. import icons
from ..state.composer import ComposerState, Completion, Mode, candidates, complete_mention, mention_query
from ..state.text import MESSAGE_TTL, duration
from .emoji_picker import EmojiPicker


class ComposerEdit(QPlainTextEdit):
    """The text box: Enter sends, Shift+Enter breaks the line, Up on an empty box edits my last message, Esc cancels."""

    send = Signal()
    edit_last = Signal()
    escape = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.popup: QListWidget | None = None

    def keyPressEvent(self, e: QKeyEvent) -> None:
        key, mods = e.key(), e.modifiers()
        popup = self.popup
        if popup is not None and popup.isVisible():
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                popup.setCurrentRow((popup.currentRow() + (1 if key == Qt.Key.Key_Down else -1)) % max(1, popup.count()))
                return
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                item = popup.currentItem()
                if item is not None:
                    popup.itemActivated.emit(item)
                    return
            if key == Qt.Key.Key_Escape:
                popup.hide()
                return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods & Qt.KeyboardModifier.ShiftModifier:
            self.send.emit()
            return
        if key == Qt.Key.Key_Up and not self.toPlainText():
            self.edit_last.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        super().keyPressEvent(e)


class Composer(QWidget):
    """The message box under the list."""

    submitted = Signal(str)
    edit_last_requested = Signal()
    typing = Signal()

    def __init__(self, state: ComposerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.members: list[Completion] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 0, 16, 4)
        outer.setSpacing(0)
        self.bar = QFrame(self)
        self.bar.setObjectName("ReplyBar")
        bar_layout = QHBoxLayout(self.bar)
        bar_layout.setContentsMargins(12, 6, 8, 6)
        self.bar_label = QLabel(self.bar)
        self.cancel_button = QToolButton(self.bar)
        icons.put(self.cancel_button, "close")
        self.cancel_button.setToolTip("Cancel (Esc)")
        self.cancel_button.clicked.connect(state.cancel)
        bar_layout.addWidget(self.bar_label, 1)
        bar_layout.addWidget(self.cancel_button)
        self.bar.hide()
        outer.addWidget(self.bar)
        box = QFrame(self)
        box.setObjectName("ComposerBox")
        row = QHBoxLayout(box)
        row.setContentsMargins(12, 4, 6, 4)
        self.edit = ComposerEdit(box)
        self.edit.setPlaceholderText("Message")
        self.edit.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.edit.setTabChangesFocus(False)
        self.edit.textChanged.connect(self._on_text)
        self.edit.send.connect(self._send)
        self.edit.edit_last.connect(self.edit_last_requested)
        self.edit.escape.connect(state.cancel)
        self.timer_button = QToolButton(box)
        self.timer_button.setCheckable(True)
        icons.put(self.timer_button, "timer", on="timer")
        self.timer_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        timers = QMenu(self.timer_button)
        for label, seconds in MESSAGE_TTL:
            timers.addAction(label, partial(self.set_ttl, seconds))
        self.timer_button.setMenu(timers)
        self.set_ttl(None)
        self.emoji_button = QToolButton(box)
        icons.put(self.emoji_button, "emoji")
        self.emoji_button.setToolTip("Emoji")
        self.emoji_button.clicked.connect(self._pick_emoji)
        row.addWidget(self.edit, 1)
        row.addWidget(self.timer_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.emoji_button, 0, Qt.AlignmentFlag.AlignBottom)
        outer.addWidget(box)
        self.popup = QListWidget(self.window())
        self.popup.setObjectName("MentionPopup")
        self.popup.setWindowFlags(Qt.WindowType.ToolTip)
        self.popup.itemActivated.connect(self._complete)
        self.popup.itemClicked.connect(self._complete)
        self.edit.popup = self.popup
        state.mode_changed.connect(self._on_mode)
        self._fit()

    def set_ttl(self, seconds: float | None) -> None:
        """Messages sent from now disappear after `seconds` (None: they stay)."""
        self.state.ttl = seconds
        self.timer_button.setChecked(seconds is not None)
        self.timer_button.setToolTip(f"Disappearing: messages you send now vanish after {duration(seconds)}" if seconds
                                     else "Disappearing messages: off (click to set a timer)")

    def set_placeholder(self, text: str) -> None:
        self.edit.setPlaceholderText(text)

    def _send(self) -> None:
        text = self.edit.toPlainText()
        if text.strip():
            self.submitted.emit(text)

    def clear(self) -> None:
        self.edit.clear()

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        """Show `text` (a conversation's draft) without it counting as typing."""
        self.edit.blockSignals(True)
        self.edit.setPlainText(text)
        self.edit.blockSignals(False)
        self.edit.moveCursor(QTextCursor.MoveOperation.End)
        self.popup.hide()
        self._fit()

    def _on_mode(self) -> None:
        st = self.state
        if st.mode is Mode.SEND or st.target is None:
            self.bar.hide()
            if st.mode is Mode.SEND and self.property("editing"):
                self.edit.clear()
            self.setProperty("editing", False)
            return
        if st.mode is Mode.REPLY:
            self.bar_label.setText(f"Replying to <b>{self.property('reply_name') or ''}</b>")
        else:
            self.bar_label.setText("Editing message — Enter saves, Esc cancels")
            self.setProperty("editing", True)
            self.edit.setPlainText(st.target.text)
            self.edit.moveCursor(QTextCursor.MoveOperation.End)
        self.bar.show()
        self.edit.setFocus()

    def _fit(self) -> None:
        lines = max(1, min(8, int(self.edit.document().size().height())))
        fm = self.edit.fontMetrics()
        self.edit.setFixedHeight(lines * fm.lineSpacing() + 16)

    def _on_text(self) -> None:
        self._fit()
        self.typing.emit()
        cursor = self.edit.textCursor().position()
        query = mention_query(self.edit.toPlainText(), cursor)
        if query is None:
            self.popup.hide()
            return
        found = candidates(self.members, query)
        if not found:
            self.popup.hide()
            return
        self.popup.clear()
        for c in found:
            item = QListWidgetItem(f"{c.name}   {c.short}")
            item.setData(Qt.ItemDataRole.UserRole, c.name)
            self.popup.addItem(item)
        self.popup.setCurrentRow(0)
        self.popup.setFixedSize(260, min(8, len(found)) * 30 + 8)
        self.popup.move(self.edit.mapToGlobal(QPoint(0, -self.popup.height() - 6)))
        self.popup.show()

    def _complete(self, item: QListWidgetItem) -> None:
        name = str(item.data(Qt.ItemDataRole.UserRole))
        text, cursor = complete_mention(self.edit.toPlainText(), self.edit.textCursor().position(), name)
        self.edit.blockSignals(True)
        self.edit.setPlainText(text)
        self.edit.blockSignals(False)
        c = self.edit.textCursor()
        c.setPosition(cursor)
        self.edit.setTextCursor(c)
        self.popup.hide()
        self._fit()

    def _pick_emoji(self) -> None:
        picker = EmojiPicker(self)
        picker.picked.connect(self.edit.insertPlainText)
        picker.adjustSize()
        picker.move(self.emoji_button.mapToGlobal(QPoint(-picker.width() + self.emoji_button.width(), -picker.height() - 8)))
        picker.show()
