"""The route marks kept live: the DM header's, the rail's direct rooms' and the member list's follow `RouteWatch`.

`MainWindow` builds one, handing it what it redraws (so this module needs nothing of the window).
The watch looks at the node's sessions on every peer change and every two seconds (a session's
route settles after it authenticated, and a new session may run another way); when any route
changed, the rail, the member list and the DM header are shown again. While the window is hidden
(closed, or in the tray) nothing is redrawn and the watch pauses; shown again, everything is
redrawn once. (A closed window's node may be closed too: nothing may read it then.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from ..state.routes import RouteMark, RouteWatch
from ..state.session import Session
from ..theme import Theme
from .route_mark import RouteLabel


class RouteWiring(QObject):
    """Connects a window's session and widgets to one `RouteWatch`.

    `header`: the DM header's mark; `theme`: the window's theme now; `redraws`: what shows the other
    marks again (the rail, the member list)."""

    def __init__(self, window: QWidget, session: Session, header: RouteLabel, theme: Callable[[], Theme],
                 redraws: Sequence[Callable[[], None]]) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.header = header
        self.theme = theme
        self.redraws = list(redraws)
        self.watch = RouteWatch(lambda: session.live.sessions(), window)
        self.watch.changed.connect(self._changed)
        session.room_selected.connect(lambda _room: self.show_header())
        session.channel_selected.connect(lambda _channel: self.show_header())
        session.live_changed.connect(self._live)
        header.fresh = self.header_mark
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
        for redraw in self.redraws:
            redraw()
        self.show_header()

    def header_mark(self) -> RouteMark | None:
        """The mark of our session with the open direct room's other person (None elsewhere, or without one)."""
        room = self.session.room
        return self.watch.mark(room.direct_peer()) if room is not None and room.is_direct() else None

    def show_header(self) -> None:
        self.header.theme = self.theme()
        self.header.show_mark(self.header_mark())
