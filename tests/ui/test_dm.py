"""Direct messages in the window: "Message" in the member menu opens the DM with a headless node and selects it;
it sits under its own heading in the rail, with an unread badge, and notifies while the window is unfocused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QAction

from app.models import short_id
from ui.widgets.sidebar import ROOM_ROLE, SECTION_ROLE

from .test_network import connected_pair, qloop, stop, until, window_texts  # noqa: F401 (qloop is a fixture)

pytestmark = pytest.mark.timeout(90)


def test_message_in_member_menu_opens_the_dm_and_it_notifies(qtbot: object, qloop: Callable[[Awaitable[None]], None],
                                                             tmp_path: Path) -> None:
    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        try:
            bob_key = bob.node.profile.public_key
            await until(lambda: "bob" in [m.name for m in room.members()], "Bob's name in the room")
            # The quick switcher offers Bob as a person to message.
            assert any(t.person == bob_key and "bob" in t.label for t in w.session.targets())
            action = next(a for a in w.member_actions(bob_key).actions() if isinstance(a, QAction) and "Message" in a.text())
            action.trigger()
            await until(lambda: w.session.room is not None and w.session.room.is_direct(), "the DM to be selected")
            dm = w.session.room
            assert dm is not None and dm.direct_peer() == bob_key
            assert w.channels.title.text() == "@ bob"
            # The rail: rooms, then a DMs heading, then the DM (named after Bob).
            items = [w.rail.list.item(i) for i in range(w.rail.list.count())]
            assert [it.data(SECTION_ROLE) or it.data(ROOM_ROLE).name for it in items] == ["party", "DMs", "bob"]
            assert not any(t.person == bob_key for t in w.session.targets())
            # Bob's node got the room; both ways work.
            await until(lambda: bob.direct_room_with(live.me) is not None, "the DM at Bob")
            bdm = bob.node.room(dm.id)
            w.submit("psst, bob")
            await until(lambda: "psst, bob" in [m.text for m in bdm.history("general")], "the window's DM at Bob")
            notes: list[tuple[str, str]] = []
            w.session.notification.connect(lambda title, body: notes.append((title, body)))
            w.session.focused = False
            bdm.post("general", "hello alice, privately")
            await until(lambda: "hello alice, privately" in window_texts(w), "Bob's DM in the window")
            await until(lambda: ("bob", "hello alice, privately") in notes, "a DM notification while unfocused")
            # Away from the DM, a new one shows as unread on its rail icon.
            w.session.select_room(room.id)
            bdm.post("general", "still there?")
            await until(lambda: next(s for s in w.session.summaries() if s.room_id == dm.id).unread == 1, "the DM's unread badge")
            assert short_id(bob_key) in live.presence(dm.id)
        finally:
            await stop(w, live, bob)

    qloop(scenario())


def test_a_dm_opened_by_the_headless_node_appears_under_dms(qtbot: object, qloop: Callable[[Awaitable[None]], None],
                                                            tmp_path: Path) -> None:
    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        try:
            bdm = await bob.async_open_dm(live.me)
            bdm.post("general", "got a minute?")

            def rail() -> list[str]:
                items = [w.rail.list.item(i) for i in range(w.rail.list.count())]
                return [it.data(SECTION_ROLE) or it.data(ROOM_ROLE).name for it in items]

            await until(lambda: rail() == ["party", "DMs", "bob"], "the pushed DM under DMs in the rail")
            summary = next(s for s in w.session.summaries() if s.room_id == bdm.id)
            assert summary.direct and summary.unread == 1
        finally:
            await stop(w, live, bob)

    qloop(scenario())
