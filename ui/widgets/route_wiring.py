"""The route marks kept live: the DM header's, the rail's direct rooms' and the member list's follow `RouteWatch`.

`MainWindow` builds one. The watch looks at the node's sessions on every peer change and every two
seconds (a session's route settles after it authenticated, and a new session may run another way);
when any route changed, the rail, the member list and the DM header are shown again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..state.routes import RouteMark, RouteWatch

if TYPE_CHECKING:
    from .main_window import MainWindow


class RouteWiring:
    """Connects a window's session and widgets to one `RouteWatch`."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        session = window.session
        self.watch = RouteWatch(lambda: session.live.sessions(), window)
        self.watch.changed.connect(self._changed)
        session.room_selected.connect(lambda _room: self.show_header())
        session.channel_selected.connect(lambda _channel: self.show_header())
        session.live_changed.connect(self._live)
        window.chat.header_route.fresh = self.header_mark

    def _live(self, what: str) -> None:
        if what == "presence":  # a peer came or went: look now rather than at the next tick
            self.watch.look()

    def _changed(self) -> None:
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
