"""Notification menus and dialog: a room's or channel's level and mute, do not disturb, and keywords."""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial

from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QLabel, QMenu, QPlainTextEdit, QWidget

from app.notify_prefs import ALL, FOREVER, MENTIONS, NOTHING
from app.room import Room

from ..state.session import Session
from .dialogs import dialog_buttons

LEVEL_TEXT = {ALL: "All messages", MENTIONS: "Only @mentions", NOTHING: "Nothing"}
MUTES = (("For 1 hour", 3600.0), ("For 8 hours", 8 * 3600.0), ("Until I turn it back on", None))


class NotifyMenus:
    """Builds the notification menus; every change is saved and recounted at once (`Session.notify_changed`)."""

    def __init__(self, session: Session, parent: QWidget) -> None:
        self.session = session
        self.prefs = session.prefs
        self.parent = parent

    def menu(self, room: Room, channel: str | None = None, parent: QMenu | None = None) -> QMenu:
        """The "Notifications" menu of a room (channel None) or of one of its channels."""
        menu = QMenu("Notifications", parent or self.parent)
        menu.setObjectName("notifications")
        own = self.prefs.rule(room.id, channel)
        if channel is not None:
            inherited = self.prefs.rule(room.id).level or (ALL if room.is_direct() else MENTIONS)
            action = menu.addAction(f"Like the room ({LEVEL_TEXT[inherited].lower()})", partial(self._level, room, channel, None))
            action.setCheckable(True)
            action.setChecked(own.level is None)
        for level, text in LEVEL_TEXT.items():
            action = menu.addAction(text, partial(self._level, room, channel, level))
            action.setCheckable(True)
            action.setChecked(own.level == level or (channel is None and own.level is None
                                                     and level == (ALL if room.is_direct() else MENTIONS)))
        menu.addSeparator()
        if own.muted(_now()):
            until = "until you turn it back on" if own.mute_until == FOREVER else f"until {_clock(own.mute_until)}"
            menu.addAction(f"Unmute (muted {until})", partial(self._unmute, room, channel))
        else:
            mute = menu.addMenu("Mute")
            for text, seconds in MUTES:
                mute.addAction(text, partial(self._mute, room, channel, seconds))
        menu.addSeparator()
        menu.addAction("Keywords and do not disturb…", self.settings_dialog)
        return menu

    def _level(self, room: Room, channel: str | None, level: str | None) -> None:
        self.prefs.set_level(room.id, channel, level)
        self.session.notify_changed()

    def _mute(self, room: Room, channel: str | None, seconds: float | None) -> None:
        self.prefs.mute(room.id, channel, seconds)
        self.session.notify_changed()

    def _unmute(self, room: Room, channel: str | None) -> None:
        self.prefs.unmute(room.id, channel)
        self.session.notify_changed()

    def set_dnd(self, on: bool) -> None:
        self.prefs.dnd = on
        self.session.notify_changed()

    def settings_dialog(self) -> bool:
        dlg = NotificationsDialog(self.prefs.dnd, self.prefs.keywords, self.parent)
        if not dlg.exec():
            return False
        self.prefs.dnd = dlg.dnd.isChecked()
        self.prefs.set_keywords(dlg.keywords())
        self.session.notify_changed()
        return True


class NotificationsDialog(QDialog):
    """Do not disturb for the whole app, and the words that count as mentioning me."""

    def __init__(self, dnd: bool, keywords: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Notifications")
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        self.dnd = QCheckBox("Do not disturb: no desktop notifications at all", self)
        self.dnd.setChecked(dnd)
        form.addRow(self.dnd)
        note = QLabel("Words that count as a mention of you, one per line (whole words, any case):", self)
        note.setWordWrap(True)
        form.addRow(note)
        self.words = QPlainTextEdit("\n".join(keywords), self)
        self.words.setPlaceholderText("deploy\nserver down")
        form.addRow(self.words)
        form.addRow(dialog_buttons(self, "Save"))

    def keywords(self) -> list[str]:
        return [line for line in self.words.toPlainText().splitlines() if line.strip()]



def _now() -> float:
    return time.time() * 1000.0


def _clock(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%H:%M")
