"""The window's files, wired: the attach button and the strip of files to attach in the composer, drop and paste,
clicks on pictures and file cards in the message list, and repaints as fetches progress.

It hooks into the existing widgets from outside (event filters, one attribute on the message painter) so the
composer and the list need no code of their own for files; `MainWindow` builds one and asks it first on submit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QBoxLayout, QToolButton

from app.files.manifest import Manifest
from app.models import Message

from ..state.attachments import AttachmentsState
from .attachment_paint import hit as files_hit
from .attachments import FileDropFilter, PendingStrip, PictureDialog, ask_files, ask_save_path
from .message_model import ROW_ROLE

if TYPE_CHECKING:
    from app.files.part import Files

    from .main_window import MainWindow


def files_part(live: Any) -> Files | None:
    """The node's Files part behind a LiveService, once networking runs (None offline)."""
    service = getattr(live, "service", None)
    return getattr(service, "files", None) if service is not None and getattr(live, "started", False) else None


class FileWiring(QObject):
    """Files in one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.state = AttachmentsState(window.node, lambda: files_part(window.session.live))
        self.viewer: PictureDialog | None = None
        composer = window.composer
        self.strip = PendingStrip(self.state, composer)
        outer = composer.layout()
        if isinstance(outer, QBoxLayout):
            outer.insertWidget(outer.count() - 1, self.strip)
        self.attach_button = QToolButton(composer)
        self.attach_button.setText("📎")
        self.attach_button.setObjectName("AttachButton")
        self.attach_button.setToolTip("Attach files (or drop them on the window, or paste a picture)")
        self.attach_button.clicked.connect(self.pick_files)
        box = composer.emoji_button.parentWidget()
        row = box.layout() if box is not None else None
        if isinstance(row, QBoxLayout):
            row.insertWidget(0, self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.drops = FileDropFilter(self.state, QApplication.clipboard())
        for target in (window, composer.edit, window.view.viewport()):
            target.setAcceptDrops(True)
            target.installEventFilter(self.drops)
        self._edit = composer.edit
        self._viewport = window.view.viewport()
        self._edit.installEventFilter(self)
        self._viewport.installEventFilter(self)
        window.delegate.files = self.state
        window.delegate.on_shown = self._shown
        self.state.progress.connect(lambda *_: window.view.viewport().update())
        self.state.picture_ready.connect(self._picture_ready)
        self.state.error.connect(window.show_error)

    # ----- composing --------------------------------------------------------------------------

    def pick_files(self) -> None:
        self.state.add_paths(ask_files(self.window))

    def submit(self, text: str) -> bool:
        """Send the text with the pending files; False when none are pending (the window sends the text)."""
        s = self.window.session
        if not self.state.pending or s.room is None or not s.channel:
            return False
        self.state.send(s.room, s.channel, text)
        self.window.composer.clear()
        self.window.view.scrollToBottom()
        return True

    # ----- the message list --------------------------------------------------------------------

    def _shown(self, msg: Message, m: Manifest) -> None:
        room = self.window.session.room
        if room is not None:
            self.state.shown(room, msg.id, m)

    def _picture_ready(self, attachment_id: str) -> None:
        self.window.delegate.forget_heights()
        self.window.view.viewport().update()

    def clicked(self, msg: Message, action: str, m: Manifest) -> None:
        room = self.window.session.room
        if room is None:
            return
        if action == "view":
            image = self.state.picture(m)
            if image is None:
                self.state.fetch(room, msg.id, m)
                return
            self.viewer = PictureDialog(image, m.name, self.window)
            self.viewer.save_requested.connect(lambda: self.save(msg, m))
            self.viewer.show()
        elif action == "save":
            self.save(msg, m)
        elif action == "open":
            self.state.open(room, msg.id, m)

    def save(self, msg: Message, m: Manifest) -> None:
        room = self.window.session.room
        target = ask_save_path(self.window, m.name)
        if room is not None and target is not None:
            self.state.save_as(room, msg.id, m, target)

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        w = self.window
        if obj is self._edit and e.type() == QEvent.Type.KeyPress and isinstance(e, QKeyEvent):
            if (e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not e.modifiers() & Qt.KeyboardModifier.ShiftModifier
                    and self.state.pending and not self._edit.toPlainText().strip()):
                return self.submit("")
        elif (obj is self._viewport and e.type() == QEvent.Type.MouseButtonPress and isinstance(e, QMouseEvent)
              and e.button() == Qt.MouseButton.LeftButton):
            pos = e.position().toPoint()
            idx = w.view.indexAt(pos)
            if idx.isValid():
                row = idx.data(ROW_ROLE)
                local = pos - w.view.visualRect(idx).topLeft()
                placed = w.delegate.geometry(row, w.view.viewport().width()).files
                found = files_hit(placed, local.x(), local.y())
                if found is not None:
                    self.clicked(row.msg, found[0], found[1])
                    return True
        return False
