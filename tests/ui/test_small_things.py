"""The small things a new user trips over: a stray mnemonic, "1 members", an empty channel's first line,
names readable in the light theme (and a rail that follows it), and a DM that looks like a DM."""

from __future__ import annotations

import re

from nacl.signing import SigningKey
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTabWidget

from app.models import short_id
from app.node import Node
from ui.colours import AUTHOR_COLOURS, author_colour, contrast, name_colour
from ui.services import PublicRoom
from ui.state.text import plural
from ui.theme import DARK, LIGHT
from ui.widgets.main_window import MainWindow
from ui.widgets.room_browser import RoomBrowser
from ui.widgets.room_settings import RoomSettingsDialog
from ui.widgets.sidebar import ICON, ROOM_ROLE


def test_no_stray_mnemonic_and_counts_have_their_plural(qtbot: object, window: MainWindow) -> None:
    room = window.session.create_room("Party")
    dialog = RoomSettingsDialog(room, window)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    tabs = dialog.findChild(QTabWidget)
    assert tabs is not None
    labels = [tabs.tabText(i) for i in range(tabs.count())]
    assert all(re.search(r"(?<!&)&(?!&)", t) is None for t in labels), labels  # a lone & underlines the next letter
    assert "Members && roles" in labels
    assert plural(1, "member") == "1 member" and plural(3, "member") == "3 members" and plural(0, "reply", "replies") == "0 replies"
    browser = RoomBrowser([PublicRoom(b"\x01" * 32, "Solo", ("lan",), 1)], window)
    qtbot.addWidget(browser)  # type: ignore[attr-defined]
    assert "1 member " in browser.list.item(0).text() and "members" not in browser.list.item(0).text()


def test_an_empty_channel_says_it_is_the_start(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Party")
    qtbot.waitUntil(lambda: w.view.intro.isVisible(), timeout=2000)  # type: ignore[attr-defined]
    assert "This is the start of the #general channel" in w.view.intro.text()
    room.post("general", "first!")
    qtbot.waitUntil(lambda: not w.view.intro.isVisible(), timeout=2000)  # type: ignore[attr-defined]


def test_names_read_on_both_themes() -> None:
    for theme in (LIGHT, DARK):
        for i in range(len(AUTHOR_COLOURS) * 8):
            short = f"member{i:02d}"
            assert contrast(name_colour(short, theme), QColor(theme.chat)) >= 4.5, (theme.name, short)


def test_the_light_theme_reaches_the_rail(qtbot: object, window: MainWindow) -> None:
    w = window
    w.session.create_room("Party")
    w.set_theme("light")
    qtbot.wait(20)  # type: ignore[attr-defined]
    image = w.rail.grab().toImage()
    button = w.rail.buttons[0]
    centre = button.geometry().center()
    edge = image.pixelColor(button.geometry().left() + 6, centre.y())  # the round button's own background
    assert edge.lightnessF() > 0.7, edge.name()
    assert image.pixelColor(3, image.height() // 2).lightnessF() > 0.7  # the rail behind the buttons


def test_a_dm_looks_like_a_dm(qtbot: object, window: MainWindow, node: Node) -> None:
    w = window
    w.session.create_room("Party")
    bob = bytes(SigningKey.generate().verify_key)
    dm = node.create_room("alice & bob")
    dm.update_settings(direct=True)
    dm.add_member(bob, name="bob")
    w.session.rooms_changed.emit()
    w.session.select_room(dm.id)
    assert w.header_title.text() == "@ bob" and w.channels.title.text() == "@ bob"
    tree = w.channels.tree
    shown = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    shown += [tree.topLevelItem(i).child(j).text(0) for i in range(tree.topLevelItemCount())
              for j in range(tree.topLevelItem(i).childCount())]
    assert shown == ["DIRECT MESSAGE", "bob"], shown
    members = [w.members.list.item(i).text() for i in range(w.members.list.count())]
    assert not any("OWNER" in t for t in members), members
    assert not w.chat.invite_button.isVisibleTo(w)
    assert "Invite people" not in [a.text() for a in w.rooms.menu().actions()]
    # the DM's rail icon wears bob's colour, the one his avatar has in the member list
    item = next(w.rail.list.item(i) for i in range(w.rail.list.count())
                if w.rail.list.item(i).data(ROOM_ROLE) is not None and w.rail.list.item(i).data(ROOM_ROLE).room_id == dm.id)
    rect = w.rail.list.visualItemRect(item)
    image = w.rail.list.viewport().grab().toImage()
    pixel = image.pixelColor(rect.center().x(), rect.top() + 5 + ICON // 2 - 14)
    assert pixel.name() == author_colour(short_id(bob)).name()
