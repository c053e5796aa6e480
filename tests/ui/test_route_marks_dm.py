"""Route marks in the DM header and on the rail's direct room, live, over real nodes (loopback, mDNS off, a real relay).

Alice's window opens a DM with Bob while their session is a LAN one: the DM header and the DM's icon in the
rail get the mark "LAN" (same icon, label and tooltip as the member list's). Bob's node stops: both marks go.
Bob comes back, meeting Alice only through the room's relay: both marks say "Internet", without a click.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QListWidgetItem, QToolTip

from app.node import Node
from app.profile import open_profile
from app.relay.settings import relays_for, set_room_relays
from app.service import NodeService
from tests.integration.test_wan_hostile_mailbox import hostile_relay as relay_in_thread
from tests.ui.test_network import qloop, until  # noqa: F401  (qloop is a fixture)
from tests.ui.test_route_marks import relayed, relayed_window
from ui.desktop import build_window
from ui.state.session import RoomSummary
from ui.widgets.main_window import MainWindow
from ui.widgets.route_mark import ICON
from ui.widgets.sidebar import ROOM_ROLE, route_spot

pytestmark = pytest.mark.timeout(120)


def rail_item(w: MainWindow, room_id: bytes) -> QListWidgetItem:
    items = [w.rail.list.item(i) for i in range(w.rail.list.count())]
    return next(it for it in items if isinstance(it.data(ROOM_ROLE), RoomSummary) and it.data(ROOM_ROLE).room_id == room_id)


def rail_route(w: MainWindow, room_id: bytes) -> str | None:
    summary: RoomSummary = rail_item(w, room_id).data(ROOM_ROLE)
    return None if summary.route is None else summary.route.route


def header_route(w: MainWindow) -> str | None:
    label = w.chat.header_route
    return label.mark.route if label.mark is not None and label.isVisible() else None


def painted_on_rail(w: MainWindow, room_id: bytes, colour: str) -> int:
    """Pixels (close to) `colour` where the rail paints a direct room's route mark."""
    rect = w.rail.list.visualItemRect(rail_item(w, room_id))
    x, y = route_spot(rect)
    image = w.rail.list.viewport().grab().toImage()
    want = QColor(colour)
    hits = 0
    for px in range(x, x + ICON + 6):
        for py in range(y, y + ICON + 6):
            c = image.pixelColor(px, py)
            hits += abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 40
    return hits


def header_tooltip(w: MainWindow) -> str:
    label = w.chat.header_route
    at = label.rect().center()
    QApplication.sendEvent(label, QHelpEvent(QEvent.Type.ToolTip, at, label.mapToGlobal(at)))
    return QToolTip.text()


def test_the_dm_header_and_the_rail_show_the_route_and_follow_it(qtbot: object, qloop: Callable[[Awaitable[None]], None],
                                                                  tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        node, live, w = relayed_window(tmp_path, qtbot)
        bob: NodeService | None = relayed(Node(open_profile(tmp_path / "bob", display_name="bob")))
        assert bob is not None
        try:
            await live.async_start()
            await bob.async_start()
            room = w.session.create_room("party")
            await bob.async_connect(*live.service.address)  # a LAN session (loopback)
            await bob.async_join(live.invite_link(room), 15)
            bob_key = bob.node.profile.public_key
            await until(lambda: "bob" in [m.name for m in room.members()], "Bob in the room")
            dm = await live.service.async_open_dm(bob_key)
            w.session.select_room(dm.id)
            await until(lambda: header_route(w) == "lan", "the DM header's LAN mark")
            assert w.chat.header_route.text.text() == "LAN"
            assert header_tooltip(w).startswith("Direct on the LAN")
            await until(lambda: rail_route(w, dm.id) == "lan", "the rail's LAN mark on the DM")
            assert "Direct on the LAN" in rail_item(w, dm.id).toolTip()
            assert painted_on_rail(w, dm.id, w.theme.online) > 5, "the mark is drawn on the DM's icon in the rail"
            assert rail_route(w, room.id) is None  # a room of many has no one route
            if os.environ.get("HUBBUB_TEST_GRAB"):
                w.grab().save(os.path.join(os.environ["HUBBUB_TEST_GRAB"], "dm-lan.png"))

            # The room gets a relay; Bob learns it, then goes away: the marks go with his session.
            set_room_relays(room, [url])
            bnode = bob.node
            broom = bnode.room(room.id)
            await until(lambda: url in relays_for(broom, bnode.profile), "Bob's node to know the room's relay")
            await bob.async_stop()
            bob.node.close()
            bob = None
            await until(lambda: header_route(w) is None and rail_route(w, dm.id) is None, "the marks to go")
            assert "Direct on the LAN" not in rail_item(w, dm.id).toolTip()

            # Bob comes back and meets Alice only through the relay: the marks follow, with nobody clicking.
            bob = relayed(Node(open_profile(tmp_path / "bob")))
            await bob.async_start()
            await until(lambda: header_route(w) == "direct", "the DM header's Internet mark", timeout=20)
            assert w.chat.header_route.text.text() == "Internet"
            assert header_tooltip(w).startswith("Direct across the internet")
            await until(lambda: rail_route(w, dm.id) == "direct", "the rail's Internet mark on the DM")
            assert painted_on_rail(w, dm.id, w.theme.muted) > 5
            if os.environ.get("HUBBUB_TEST_GRAB"):
                w.grab().save(os.path.join(os.environ["HUBBUB_TEST_GRAB"], "dm-internet.png"))
        finally:
            if bob is not None:
                await bob.async_stop()
                bob.node.close()
            await live.async_stop()
            w.close()
            node.close()

    with relay_in_thread(tmp_path / "relay", "honest") as relay_url:
        qloop(scenario(relay_url))


def test_no_mark_in_the_header_of_a_room(qtbot: object, qloop: Callable[[Awaitable[None]], None], tmp_path: Path) -> None:
    async def scenario() -> None:
        node, live, w = relayed_window(tmp_path, qtbot)
        try:
            await live.async_start()
            room = w.session.create_room("party")
            w.session.select_room(room.id)
            await until(lambda: w.session.room is not None, "the room to open")
            assert header_route(w) is None and not w.chat.header_route.isVisible()
        finally:
            await live.async_stop()
            w.close()
            node.close()

    qloop(scenario())


def test_a_closed_window_reads_nothing_when_a_route_changes(qtbot: object, tmp_path: Path) -> None:
    """Its node may be closed already (the app quitting, a test ending): a route change must not touch it."""
    node = Node(open_profile(tmp_path / "alice", display_name="alice"))
    w = build_window(node)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.show()
    assert w.routes.watch._timer.isActive()
    w.close()
    assert not w.routes.watch._timer.isActive()  # paused while nothing shows a mark
    node.close()
    w.routes.watch.changed.emit()  # as a session ending after the close would: nothing reads the closed store
    assert w.chat.header_route.mark is None
