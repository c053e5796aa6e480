"""Notification control in the window: levels and mutes from the menus, keywords, do not disturb, @everyone from
moderators only, the tray's count, Mark all as read and Alt+Shift+Up/Down. Bob's messages arrive as remote entries
(his profile's log carried over), as they would from a peer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from app.node import Node
from app.profile import open_profile
from app.room import Room
from crdt.schema import MESSAGES
from ui.widgets.main_window import MainWindow

from .conftest import answer_dialog


@dataclass
class Scene:
    w: MainWindow
    room: Room
    bob: Node
    bob_room: Room
    tmp: Path
    notes: list[tuple[str, str]]

    def carry(self, src: Node, room: Room, dst: Node) -> None:
        path = self.tmp / f"{time.monotonic_ns()}.log"
        src.export(room, "log", path)
        dst.import_log(path)

    def bob_says(self, qtbot: object, text: str, channel: str = "general", **value: object) -> None:
        if value:
            self.bob_room._write(MESSAGES, {"c": channel, "t": text, "ts": time.time() * 1000, **value})
        else:
            self.bob_room.post(channel, text)
        self.carry(self.bob, self.bob_room, self.w.node)
        qtbot.wait(30)  # type: ignore[attr-defined]  # the session's coalesced delivery


@pytest.fixture
def scene(qtbot: object, window: MainWindow, tmp_path: Path) -> Iterator[Scene]:
    w = window
    room = w.session.create_room("Party")
    room.create_channel("random")
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    room.add_member(bob.profile.public_key, name="bob")
    s = Scene(w, room, bob, Room.__new__(Room), tmp_path, [])
    s.carry(w.node, room, bob)
    s.bob_room = bob.room(room.id)
    w.session.notification.connect(lambda title, body: s.notes.append((title, body)))
    elsewhere = w.session.create_room("Elsewhere")  # what the window shows meanwhile (Party's channels stay unread)
    qtbot.wait(50)  # type: ignore[attr-defined]
    w.session.select_room(elsewhere.id)
    w.session.select_room(room.id)  # the room menu is the open room's
    w.session.select_room(elsewhere.id)
    w.session.focused = False  # notifications are for a window in the background
    yield s
    bob.close()


def _in_party(s: Scene, menu: Callable[[], QMenu], *path: str) -> None:
    """Use a menu of the Party room (the channel panel and room menu are the open room's), then look elsewhere again."""
    w = s.w
    back = w.session.room
    w.session.select_room(s.room.id)
    _action(menu(), *path)
    if back is not None:
        w.session.select_room(back.id)
    w.session.focused = False  # (opening a room may have made the window active again)


def _action(menu: QMenu, *path: str) -> None:
    """Trigger the menu entry at `path` (submenus by their title)."""
    for name in path[:-1]:
        sub = next(a.menu() for a in menu.actions() if a.text() == name and a.menu() is not None)
        assert isinstance(sub, QMenu)
        menu = sub
    next(a for a in menu.actions() if a.text().startswith(path[-1])).trigger()


def test_a_muted_channel_raises_no_notification_and_a_keyword_does(qtbot: object, scene: Scene) -> None:
    s, w = scene, scene.w
    s.bob_says(qtbot, "just chatting")
    assert s.notes == []  # the default: mentions only
    s.bob_says(qtbot, "hey @alice, pizza?")
    assert s.notes == [("bob in Party #general", "hey @alice, pizza?")]
    _in_party(s, lambda: w.finding.channel_menu("general"), "Notifications", "Mute", "For 1 hour")
    assert w.session.prefs.muted(s.room.id, "general")
    s.bob_says(qtbot, "@alice are you there?")
    assert len(s.notes) == 1
    summary = next(x for x in w.session.summaries() if x.room_id == s.room.id)
    assert summary.attention == 0 and w.windowTitle() == "Hubbub"  # a muted channel adds nothing to the tray's count

    def set_keywords(dlg: object) -> None:
        dlg.words.setPlainText("deploy\nserver down")  # type: ignore[attr-defined]
        dlg.accept()  # type: ignore[attr-defined]

    answer_dialog(__import__("ui.widgets.notify_menu", fromlist=["NotificationsDialog"]).NotificationsDialog, set_keywords)
    assert w.finding.notify.settings_dialog()
    w.session.focused = False
    s.bob_says(qtbot, "the deploy is broken", channel="random")
    assert s.notes[-1] == ("bob in Party #random", "the deploy is broken")
    s.bob_says(qtbot, "the server down again", channel="general")  # muted: not even a keyword
    assert len(s.notes) == 2
    assert next(x for x in w.session.summaries() if x.room_id == s.room.id).attention == 1  # the keyword in #random
    assert w.windowTitle() == "(1) Hubbub"
    saved = open_profile(w.node.profile.path).settings["notify"]  # kept in the profile
    assert saved["keywords"] == ["deploy", "server down"] and any(r.get("mute_until") for r in saved["rules"].values())


def test_levels_all_and_nothing_and_do_not_disturb(qtbot: object, scene: Scene) -> None:
    s, w = scene, scene.w
    _in_party(s, lambda: w.finding.channel_menu("random"), "Notifications", "All messages")
    s.bob_says(qtbot, "anything at all", channel="random")
    assert s.notes == [("bob in Party #random", "anything at all")]
    _in_party(s, w.rooms.menu, "Notifications", "Nothing")  # the room: #general follows it, #random has its own
    s.bob_says(qtbot, "@alice quiet please")
    s.bob_says(qtbot, "still all", channel="random")
    assert [n[1] for n in s.notes] == ["anything at all", "still all"]
    _action(w.rooms.menu(), "Do not disturb")  # the menu of any room: it is for the whole app
    assert w.session.prefs.dnd
    s.bob_says(qtbot, "nobody hears this", channel="random")
    assert len(s.notes) == 2


def test_everyone_pings_only_from_a_moderator(qtbot: object, scene: Scene) -> None:
    s, w = scene, scene.w
    s.bob_says(qtbot, "@everyone listen")  # Bob is a member: his own app leaves it out of the mentions
    assert "@everyone" not in s.bob_room.history()[-1].mentions
    s.bob_says(qtbot, "@everyone forged", mn=["@everyone"])  # a member's client that puts it in anyway
    assert s.notes == []
    assert w.session.unread(s.room.id, "general") == (2, 0)
    s.room.set_role(s.bob.profile.public_key, "moderator")
    s.carry(w.node, s.room, s.bob)
    s.bob_says(qtbot, "@everyone meeting now")
    assert "@everyone" in s.bob_room.history()[-1].mentions
    assert s.notes == [("bob in Party #general", "@everyone meeting now")]


def test_mark_all_as_read_and_the_next_unread(qtbot: object, scene: Scene) -> None:
    s, w = scene, scene.w
    other = next(r for r, n in w.node.room_list() if n == "Elsewhere")
    s.bob_says(qtbot, "one in random", channel="random")
    s.bob_says(qtbot, "one in general")
    assert w.session.unread(s.room.id, "general")[0] == 1 and w.session.unread(s.room.id, "random")[0] == 1
    w.session.focused = True
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier)  # type: ignore[attr-defined]
    assert w.session.room is not None and w.session.room.id == s.room.id and w.session.channel == "general"
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier)  # type: ignore[attr-defined]
    assert w.session.channel == "random"
    w.session.select_room(other)
    s.bob_says(qtbot, "more in general")
    assert w.session.unread(s.room.id, "general")[0] >= 1
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Escape, Qt.KeyboardModifier.ShiftModifier)  # type: ignore[attr-defined]
    assert all(w.session.unread(s.room.id, c) == (0, 0) for c in ("general", "random"))
    assert w.windowTitle() == "Hubbub"
    marks = w.node.profile.store.read_marks(s.room.id)
    assert marks["general"] >= s.room.history()[-1].ts
