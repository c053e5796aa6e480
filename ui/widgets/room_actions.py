"""What can be done to rooms from the window: create, join, browse, invite, settings, export, the switcher, DMs."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu, QWidget

from app.errors import HubbubError

from ..state.permissions import RoomRights
from ..state.session import Session
from ..state.switcher import Target
from ..tasks import spawn
from .dialogs import JoinDialog, NameDialog, QuickSwitcher
from .export_dialog import ExportDialog
from .invite_dialog import InviteDialog
from .room_browser import RoomBrowser
from .room_settings import RoomSettingsDialog


class RoomActions:
    """The room controller of the window: its dialogs, and the room menu."""

    def __init__(self, session: Session, parent: QWidget, show_error: Callable[[str], None],
                 refresh: Callable[[], None]) -> None:
        self.session = session
        self.parent = parent
        self.show_error = show_error
        self.refresh = refresh  # the rail, the channel list and the member list, after settings changed
        self.browser: RoomBrowser | None = None
        self.menu_extensions: list[Callable[[QMenu], None]] = []  # more entries (files: icon, avatar; notifications)

    def menu(self) -> QMenu:
        """The room menu under the room's name (built separately so tests can use it)."""
        menu = QMenu(self.parent)
        room = self.session.room
        may = RoomRights(room.my_role(), room.is_direct()) if room is not None else RoomRights(None)
        if may.invite:
            menu.addAction("Invite people", self.invite)
        if not may.direct:
            menu.addAction("Room settings" if may.edit_room else "Room info", self.room_settings)
        menu.addAction("Export history…", self.export)
        if room is not None:
            for extend in self.menu_extensions:
                extend(menu)
        menu.addSeparator()
        menu.addAction("Create a room", self.create_room)
        return menu

    def show_menu(self, under: QWidget) -> None:
        if self.session.room is not None:
            self.menu().exec(under.mapToGlobal(QPoint(0, under.height())))

    def create_room(self) -> None:
        dlg = NameDialog("Create a room", "A room holds your group's channels. You can invite people next.",
                         "e.g. Weekend LAN party", "Create", parent=self.parent)
        if dlg.exec():
            try:
                self.session.create_room(dlg.value)
            except HubbubError as exc:
                self.show_error(str(exc))

    def invite(self) -> None:
        room = self.session.room
        if room is None:
            return
        dialog = InviteDialog(room.name, lambda seconds, uses: self.session.live.invite_link(room, seconds, uses), self.parent)
        if dialog.new_link():  # the usual terms at once: 7 days, single use
            dialog.exec()
        else:
            self.show_error(dialog.terms.text())

    def join_room(self) -> None:
        self.join_link("")

    def join_link(self, link: str) -> None:
        """The join dialog, filled in with `link` (one the app was opened with) or empty."""
        dlg = JoinDialog(self.parent, link)

        async def join(link: str) -> None:
            try:
                room_id = await self.session.live.join(link)
            except HubbubError as exc:
                dlg.show_error(str(exc))
                return
            self.session.rooms_changed.emit()
            self.session.select_room(room_id)
            dlg.done_joining()

        dlg.join_requested.connect(lambda link: spawn(join(link)))
        dlg.exec()

    def browse_rooms(self) -> None:
        dlg = RoomBrowser(self.session.live.public_rooms(), self.parent)
        self.browser = dlg  # kept current while open (live "public" changes)

        async def join(room_id: bytes) -> None:
            try:
                rid = await self.session.live.join_public(room_id)
            except HubbubError as exc:
                self.show_error(str(exc))
                return
            self.session.rooms_changed.emit()
            self.session.select_room(rid)

        dlg.join_requested.connect(lambda rid: spawn(join(rid)))
        try:
            dlg.exec()
        finally:
            self.browser = None

    def public_rooms_changed(self) -> None:
        if self.browser is not None:
            self.browser.set_rooms(self.session.live.public_rooms())

    def room_settings(self) -> None:
        room = self.session.room
        if room is not None and RoomSettingsDialog(room, self.parent, self.session.live.relay_status).exec():
            self.refresh()

    def export(self) -> None:
        room = self.session.room
        if room is not None:
            ExportDialog(self.session.node, room, self.parent).exec()

    def quick_switcher(self) -> None:
        dlg = QuickSwitcher(self.session.targets(), self.parent)
        dlg.chosen.connect(self.jump)
        dlg.exec()

    def jump(self, target: Target) -> None:
        """Go where a quick-switcher target points: a room or channel, or a direct conversation with a person."""
        if target.person is not None:
            spawn(self.message_member(target.person))
        else:
            self.session.jump(target)

    async def message_member(self, key: bytes) -> None:
        """Open (or create) the direct conversation with a member and select it; a failure is shown as a sentence."""
        try:
            await self.session.open_dm(key)
        except HubbubError as exc:
            self.show_error(str(exc))
