"""Message links: "Copy link" gives hubbub://message/ROOM/ID; opening one (clicked in a message, offered under the
composer, or handed over by the system's URL handler) jumps to the message in another room, in its context; a link
into a room I am not in says so in a sentence."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from app.links import message_link
from ui.link_opener import LinkOpener
from ui.widgets.main_window import MainWindow
from ui.widgets.message_model import ROW_ROLE


def _shown(w: MainWindow, message_id: str) -> bool:
    row = w.model.row_of(message_id)
    if row is None:
        return False
    return w.model.row(row).highlight and w.view.viewport().rect().intersects(w.view.visualRect(w.model.index(row)))


def test_copy_link_and_open_it_in_another_room(qtbot: object, window: MainWindow) -> None:
    w = window
    far = w.session.create_room("Far away")
    far.create_channel("plans")
    far.post_many("plans", [f"older {i}" for i in range(300)])
    target = far.post("plans", "meet at the north gate")
    far.post_many("plans", [f"newer {i}" for i in range(300)])
    here = w.session.create_room("Here")
    here.post("general", "hello")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    w.session.select_room(far.id)
    w.session.select_channel("plans")
    qtbot.waitUntil(lambda: w.model.rowCount() > 0, timeout=2000)  # type: ignore[attr-defined]
    msg = w.model.message_at(w.model.rowCount() - 1)
    next(a for a in w.message_menu(msg).actions() if a.text() == "Copy link").trigger()
    assert QGuiApplication.clipboard().text() == message_link(far.id, msg.id)
    w.session.select_room(here.id)
    opener = LinkOpener()  # the path a link from the system's URL handler (or a second start) takes
    opener.attach(w)
    opener.open(message_link(far.id, target))
    qtbot.waitUntil(lambda: w.session.room is not None and w.session.room.id == far.id, timeout=2000)  # type: ignore[attr-defined]
    assert w.session.channel == "plans"
    qtbot.waitUntil(lambda: _shown(w, target), timeout=2000)  # type: ignore[attr-defined]


def test_a_link_into_a_room_i_am_not_in_is_a_sentence(qtbot: object, window: MainWindow) -> None:
    w = window
    here = w.session.create_room("Here")
    errors: list[str] = []
    w.show_error = errors.append  # type: ignore[method-assign]
    w.finding.open_link(message_link(bytes(range(32)), "AAAAAAAA1"))
    assert errors == ["That message is in a room you are not in."]
    assert w.session.room is not None and w.session.room.id == here.id
    w.finding.open_link(message_link(here.id, "AAAAAAAAzz"))
    assert errors[-1].startswith("That message is not in this room")


def test_a_link_in_a_message_opens_when_clicked(qtbot: object, window: MainWindow) -> None:
    w = window
    other = w.session.create_room("Other")
    target = other.post("general", "the answer is 42")
    room = w.session.create_room("Chat")
    room.post("general", f"see {message_link(other.id, target)}")
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    qtbot.wait(50)  # type: ignore[attr-defined]
    rect = w.view.visualRect(w.model.index(0))
    info = w.model.data(w.model.index(0), ROW_ROLE)
    spot = next((QPoint(x, y) for y in range(0, rect.height(), 3) for x in range(0, rect.width(), 6)
                 if (w.delegate.hit(info, w.view.viewport().width(), QPoint(x, y)) or ("",))[0] == "link"), None)
    assert spot is not None, "the link was not drawn as a link"
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.topLeft() + spot)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: w.session.room is not None and w.session.room.id == other.id, timeout=2000)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: _shown(w, target), timeout=2000)  # type: ignore[attr-defined]


def test_a_link_pasted_into_the_composer_can_be_opened(qtbot: object, window: MainWindow) -> None:
    w = window
    other = w.session.create_room("Other")
    target = other.post("general", "over here")
    w.session.create_room("Chat")
    assert not w.chat.link_hint.isVisible()
    w.composer.edit.setPlainText(f"look: {message_link(other.id, target)} !")
    assert w.chat.link_hint.isVisible() and "open it" in w.chat.link_hint.text()
    w.chat.link_hint.linkActivated.emit(message_link(other.id, target))
    qtbot.waitUntil(lambda: w.session.room is not None and w.session.room.id == other.id, timeout=2000)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: _shown(w, target), timeout=2000)  # type: ignore[attr-defined]
