"""The window's controller for finding and attention: the search pane, message links, notification menus, unread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu, QWidget

from app.links import SCHEME

from ..state.search import SearchState
from ..state.session import Session
from .chat_pane import ChatPane
from .notify_menu import NotifyMenus
from .room_actions import RoomActions
from .search_pane import SearchPane
from .sidebar import ChannelPanel


class FindActions:
    """Search (Ctrl+F), opening hubbub:// message links, notification menus, "Mark all as read", the next unread."""

    def __init__(self, session: Session, parent: QWidget, pane: SearchPane, chat: ChatPane, channels: ChannelPanel,
                 rooms: RoomActions, show_error: Callable[[str], None], open_link: Callable[[str], None]) -> None:
        self.session = session
        self.parent = parent
        self.pane = pane
        self.state: SearchState = pane.state
        self.notify = NotifyMenus(session, parent)
        self.show_error = show_error
        self._open_link = open_link
        pane.chosen.connect(self.open_result)
        channels.channel_menu_requested.connect(self.channel_menu_at)
        rooms.menu_extensions.append(self.extend_room_menu)
        chat.view.link_clicked.connect(self.open_link)
        chat.link_hint.linkActivated.connect(self.open_link)
        session.room_updated.connect(self._room_updated)

    # ----- search ------------------------------------------------------------------------------

    def _room_updated(self, _room_id: bytes) -> None:
        if self.pane.isVisible():  # results on show follow new, edited and deleted messages
            self.state.refresh()

    def toggle_search(self) -> None:
        if self.pane.isVisible() and self.pane.box.hasFocus():
            self.pane.close_search()
        else:
            self.pane.open_search()

    def open_result(self, room_id: bytes, message_id: str) -> None:
        """Show a message found: its room and channel, the messages around it, it highlighted."""
        if self.session.open_message(room_id, message_id) is None:
            self.show_error("That message is not there any more.")

    # ----- links ---------------------------------------------------------------------------------

    def open_link(self, url: str) -> None:
        """A link clicked in a message or offered under the composer: hubbub:// ones open here, web links in a browser."""
        if url.lower().startswith(SCHEME):
            self._open_link(url)
        elif url.lower().startswith(("http://", "https://", "mailto:")):
            QDesktopServices.openUrl(QUrl(url))

    # ----- notifications and unread ----------------------------------------------------------------

    def channel_menu_at(self, channel: str, where: QPoint) -> None:
        self.channel_menu(channel).exec(where)

    def channel_menu(self, channel: str) -> QMenu:
        """A text channel's right-click menu: its notifications, and marking it read."""
        menu = QMenu(self.parent)
        room = self.session.room
        if room is None:
            return menu
        menu.addMenu(self.notify.menu(room, channel, menu))
        return menu

    def extend_room_menu(self, menu: QMenu) -> None:
        room = self.session.room
        if room is None:
            return
        menu.addSeparator()
        menu.addMenu(self.notify.menu(room, None, menu))
        dnd = menu.addAction("Do not disturb")
        dnd.setCheckable(True)
        dnd.setChecked(self.session.prefs.dnd)
        dnd.toggled.connect(self.notify.set_dnd)
        menu.addAction("Mark all as read", self.session.mark_all_read)
