"""The window's files, wired: the attach button and the strip of files to attach in the composer, drop and paste,
clicks on pictures and file cards in the message list, and repaints as fetches progress.

It hooks into the existing widgets from outside (event filters, one attribute on the message painter) so the
composer and the list need no code of their own for files; `MainWindow` builds one and asks it first on submit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QImage, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QBoxLayout, QMenu, QToolButton, QWidget

from app.errors import HubbubError
from app.files.manifest import Manifest
from app.files.profile_pictures import set_avatar, set_room_icon
from app.models import Message, Role

from .. import icons
from ..state.attachments import AttachmentsState
from .attachment_paint import hit as files_hit
from .attachments import FileDropFilter, PendingStrip, PictureDialog, ask_files, ask_picture, ask_save_path
from .message_model import ROW_ROLE

if TYPE_CHECKING:
    from app.files.part import Files
    from app.node import Node

    from ..state.session import Session
    from .composer import Composer
    from .message_delegate import MessageDelegate
    from .message_view import MessageView


    from .member_list import MemberList
    from .sidebar import RoomRail


class FileWindow(Protocol):
    """What FileWiring needs of the main window (a QWidget with these parts)."""

    node: Node
    session: Session
    composer: Composer
    view: MessageView
    delegate: MessageDelegate
    members: MemberList
    rail: RoomRail

    def show_error(self, text: str) -> None: ...
    def refresh_rooms(self) -> None: ...
    def _refresh_members(self) -> None: ...


def files_part(live: Any) -> Files | None:
    """The node's Files part behind a LiveService, once networking runs (None offline)."""
    service = getattr(live, "service", None)
    return getattr(service, "files", None) if service is not None and getattr(live, "started", False) else None


class FileWiring(QObject):
    """Files in one main window."""

    def __init__(self, window: FileWindow, widget: QWidget) -> None:
        super().__init__(widget)
        self.window = window
        self.widget = widget
        self.state = AttachmentsState(window.node, lambda: files_part(window.session.live))
        self.viewer: PictureDialog | None = None
        composer = window.composer
        self.strip = PendingStrip(self.state, composer)
        outer = composer.layout()
        if isinstance(outer, QBoxLayout):
            outer.insertWidget(outer.count() - 1, self.strip)
        self.attach_button = QToolButton(composer)
        icons.put(self.attach_button, "attach")
        self.attach_button.setObjectName("AttachButton")
        self.attach_button.setToolTip("Attach files (or drop them on the window, or paste a picture)")
        self.attach_button.clicked.connect(self.pick_files)
        box = composer.emoji_button.parentWidget()
        row = box.layout() if box is not None else None
        if isinstance(row, QBoxLayout):
            row.insertWidget(0, self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.drops = FileDropFilter(self.state, QApplication.clipboard())
        for target in (widget, composer.edit, window.view.viewport()):
            target.setAcceptDrops(True)
            target.installEventFilter(self.drops)
        self._edit = composer.edit
        self._viewport = window.view.viewport()
        self._edit.installEventFilter(self)
        self._viewport.installEventFilter(self)
        window.delegate.files = self.state
        window.delegate.on_shown = self._shown
        window.delegate.avatar_image = self._avatar
        window.members.avatar_for = self._avatar
        window.rail.delegate.icon_for = self._room_icon
        self.state.progress.connect(lambda *_: window.view.viewport().update())
        self.state.picture_ready.connect(self._picture_ready)
        self.state.error.connect(window.show_error)
        window.session.room_updated.connect(self._room_changed)

    # ----- composing --------------------------------------------------------------------------

    def pick_files(self) -> None:
        self.state.add_paths(ask_files(self.widget))

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
        self.window._refresh_members()  # an avatar may have arrived
        self.window.rail.update()

    def _avatar(self, short: str) -> QImage | None:
        room = self.window.session.room
        return None if room is None else self.state.avatar_image(room, short)

    def _room_icon(self, room_id: bytes) -> QImage | None:
        node = self.window.node
        return self.state.room_icon_image(node.room(room_id)) if node.has_room(room_id) else None

    def _room_changed(self, room_id: bytes) -> None:
        self.state.forget_room(room_id)

    # ----- room icons and avatars -------------------------------------------------------------

    def add_menu_actions(self, menu: QMenu) -> None:
        """"Set room icon…" (admins) and "Set my avatar…" in the room menu."""
        room = self.window.session.room
        role = room.my_role() if room is not None else None
        if role is not None and role >= Role.ADMIN:
            menu.addAction("Set room icon…", self.pick_room_icon)
        menu.addAction("Set my avatar…", self.pick_avatar)

    def pick_room_icon(self) -> None:
        room = self.window.session.room
        picked = ask_picture(self.widget, "Room icon")
        if room is None or picked is None:
            return
        try:
            set_room_icon(self.state.store, room, picked)
        except HubbubError as exc:
            self.window.show_error(str(exc))
            return
        self.state.forget_room(room.id)
        self.window.refresh_rooms()

    def pick_avatar(self) -> None:
        picked = ask_picture(self.widget, "Your avatar")
        if picked is None:
            return
        try:
            set_avatar(self.window.node, self.state.store, picked)
        except HubbubError as exc:
            self.window.show_error(str(exc))
            return
        for room_id, _ in self.window.node.room_list():
            self.state.forget_room(room_id)
        self.window._refresh_members()
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
            self.viewer = PictureDialog(image, m.name, self.widget)
            self.viewer.save_requested.connect(lambda: self.save(msg, m))
            self.viewer.show()
        elif action == "save":
            self.save(msg, m)
        elif action == "open":
            self.state.open(room, msg.id, m)

    def save(self, msg: Message, m: Manifest) -> None:
        room = self.window.session.room
        target = ask_save_path(self.widget, m.name)
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
