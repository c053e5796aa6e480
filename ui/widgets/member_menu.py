"""A member's right-click menu: message them, call them, their voice volume for me, mute them for me; remove them (admins)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QSlider, QWidget, QWidgetAction

from app.errors import HubbubError

from .. import icons
from ..state.permissions import RoomRights
from ..state.session import Session
from ..tasks import spawn
from .dialogs import confirm
from .room_actions import RoomActions
from .voice_controls import VoiceControls


class MemberMenu:
    """Builds the member menu of the member list (apart from showing it, so tests can use it)."""

    def __init__(self, session: Session, rooms: RoomActions, voice: VoiceControls, parent: QWidget) -> None:
        self.session = session
        self.rooms = rooms
        self.voice = voice
        self.parent = parent

    def build(self, key: bytes) -> QMenu:
        menu = QMenu(self.parent)
        room = self.session.room
        if key == self.session.node.profile.public_key or room is None:
            menu.addAction("This is you").setEnabled(False)
            return menu
        v, do = self.voice.voice, self.voice.do
        menu.addAction(icons.icon("message"), "Message", lambda: spawn(self.rooms.message_member(key)))
        menu.addAction(icons.icon("call"), "Call", lambda: do(v.call, key, room.id))
        slider = QSlider(Qt.Orientation.Horizontal, menu)
        slider.setObjectName("volume")
        slider.setRange(0, 200)
        slider.setValue(int(v.volume(key) * 100))
        slider.setToolTip("Their voice volume for me (100% = unchanged)")
        slider.valueChanged.connect(lambda value: do(v.set_volume, key, value / 100.0))
        box = QWidget(menu)
        lay = QHBoxLayout(box)
        lay.setContentsMargins(12, 4, 12, 4)
        lay.addWidget(QLabel("Volume", box))
        lay.addWidget(slider, 1)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(box)
        menu.addAction(holder)
        mute = menu.addAction("Mute for me")
        mute.setCheckable(True)
        mute.setChecked(v.peer_muted(key))
        mute.toggled.connect(lambda on: do(v.set_peer_muted, key, on))
        target = next((m for m in room.members() if m.key == key), None)
        if target is not None and RoomRights(room.my_role(), room.is_direct()).may_remove(target.role):
            menu.addSeparator()
            remove = menu.addAction(icons.icon("remove"), "Remove from room…", lambda: self.remove(key, target.name))
            remove.setObjectName("remove")
        return menu

    def remove(self, key: bytes, name: str) -> None:
        """Remove a member after asking (the room key is rotated, so they read nothing written after)."""
        room = self.session.room
        if room is None or not confirm(self.parent, "Remove from room",
                                       f"Remove {name} from {room.name}? They will not see anything written from now on, "
                                       "and need a new invite to come back.", "Remove"):
            return
        try:
            room.remove_member(key)
        except HubbubError as exc:
            self.voice.show_error(str(exc))
