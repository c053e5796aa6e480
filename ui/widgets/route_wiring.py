"""The route marks kept live: the DM header's, the rail's direct rooms' and the member list's follow `RouteWatch`.

`MainWindow` builds one. The watch looks at the node's sessions on every peer change and every two
seconds (a session's route settles after it authenticated, and a new session may run another way);
when any route changed, the rail, the member list and the DM header are shown again. While the
window is hidden (closed, or in the tray) nothing is redrawn and the watch pauses; shown again,
everything is redrawn once. (A closed window's node may be closed too: nothing may read it then.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject

from ..state.routes import RouteMark, RouteWatch

if TYPE_CHECKING:
    from .main_window import MainWindow


class RouteWiring(QObject):
    """Connects a window's session and widgets to one `RouteWatch`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        session = window.session
        self.watch = RouteWatch(lambda: session.live.sessions(), window)
        self.watch.changed.connect(self._changed)
        session.room_selected.connect(lambda _room: self.show_header())
        session.channel_selected.connect(lambda _channel: self.show_header())
        session.live_changed.connect(self._live)
        window.chat.header_route.fresh = self.header_mark
        window.installEventFilter(self)
        self.watch.pause(not window.isVisible())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() in (QEvent.Type.Show, QEvent.Type.Hide):
            shown = event.type() == QEvent.Type.Show
            self.watch.pause(not shown)
            if shown:
                self.watch.look()
                self._changed()
        return False

    def _live(self, what: str) -> None:
        if what == "presence":  # a peer came or went: look now rather than at the next tick
            self.watch.look()

    def _changed(self) -> None:
        if not self.window.isVisible():
            return
        self.window.refresh_rooms()
        self.window._refresh_members()
        self.show_header()

    def header_mark(self) -> RouteMark | None:
        """The mark of our session with the open direct room's other person (None elsewhere, or without one)."""
        room = self.window.session.room
        return self.watch.mark(room.direct_peer()) if room is not None and room.is_direct() else None

    def show_header(self) -> None:
        label = self.window.chat.header_route
        label.theme = self.window.theme
        label.show_mark(self.header_mark())
