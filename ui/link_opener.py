"""Acting on a hubbub:// link in the running app: the join dialog filled in, or the room and message it points to.

Links come from the command line (`hubbub LINK`, which a browser runs for the desktop entry's
x-scheme-handler/hubbub) and from later starts (ui/single_instance.py). Until the window exists
(the first-run dialog is still up, say) they wait, then open in the order they came.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from app.errors import HubbubError
from app.links import JoinLink, parse_link

if TYPE_CHECKING:
    from .widgets.main_window import MainWindow


def open_link(window: MainWindow, text: str) -> None:
    """Bring the window to the front and act on `text` ("" only brings it to the front); problems are one sentence."""
    window.showNormal()
    window.raise_()
    window.activateWindow()
    if not text:
        return
    try:
        link = parse_link(text)
    except HubbubError as exc:
        window.show_error(str(exc))
        return
    session = window.session
    known = {room_id for room_id, _ in session.node.room_list()}
    if isinstance(link, JoinLink):
        if link.room_id in known:
            session.select_room(link.room_id)  # already a member: the invite is not spent on a second join
        else:
            window.join_link(link.link)
        return
    if link.room_id not in known:
        window.show_error("That message is in a room you are not in.")
        return
    session.select_room(link.room_id)
    message = session.message(link.message_id)
    if message is None:
        window.show_error("That message is not in this room (it may not have reached you yet).")
        return
    session.select_channel(message.channel)
    window.view.jump_to(message.id)


class LinkOpener(QObject):
    """Opens links in the window once there is one, one at a time, each after the current event.

    A join dialog runs its own event loop, so a link that comes while one is open waits until it closes.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window: MainWindow | None = None
        self.pending: list[str] = []
        self._busy = False

    def open(self, text: str) -> None:
        self.pending.append(text)
        self._schedule()

    def attach(self, window: MainWindow) -> None:
        """The window is up: open what waited, then every later link as it comes."""
        self.window = window
        self._schedule()

    def _schedule(self) -> None:
        if self.window is not None and self.pending and not self._busy:
            self._busy = True
            QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        try:
            if self.window is not None and self.pending:
                open_link(self.window, self.pending.pop(0))
        finally:
            self._busy = False
        self._schedule()
