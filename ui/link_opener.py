"""Acting on a hubbub:// link in the running app: the join dialog filled in, or the room and message it points to.

Links come from the command line (`hubbub LINK`, which a browser runs for the desktop entry's
x-scheme-handler/hubbub) and from later starts (ui/single_instance.py). Until the window exists
(the first-run dialog is still up, say) they wait, then open in the order they came.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, QTimer

from app.errors import HubbubError
from app.links import JoinLink, parse_link

from .state.session import Session


class LinkWindow(Protocol):
    """What opening a link needs of the window (ui/widgets/main_window.py `MainWindow`)."""

    session: Session

    def showNormal(self) -> None: ...

    def raise_(self) -> None: ...

    def activateWindow(self) -> None: ...

    def show_error(self, text: str) -> None: ...

    def join_link(self, link: str) -> None: ...


def open_link(window: LinkWindow, text: str) -> None:
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
    if session.open_message(link.room_id, link.message_id) is None:
        session.select_room(link.room_id)
        window.show_error("That message is not in this room (it may not have reached you yet).")


class LinkOpener(QObject):
    """Opens links in the window once there is one, one at a time, each after the current event.

    A join dialog runs its own event loop, so a link that comes while one is open waits until it closes.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window: LinkWindow | None = None
        self.pending: list[str] = []
        self._busy = False

    def open(self, text: str) -> None:
        self.pending.append(text)
        self._schedule()

    def attach(self, window: LinkWindow) -> None:
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
