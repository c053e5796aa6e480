"""The member list's route mark over real nodes: the window's node and a headless one on loopback (real aiortc, mDNS off).

Bob connects to Alice's node on loopback, which is a LAN session: Bob's row gets the mark "LAN" (drawn in the row, with
its tooltip naming the route), Alice's own row gets none, and the mark goes when Bob's node stops. Two nodes that
meet only through a relay on loopback have a direct session: "Internet".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QListWidgetItem, QToolTip

from app.node import Node
from app.profile import open_profile
from app.relay.settings import set_room_relays
from app.service import NodeService
from p2p.config import Timings
from p2p.relay.config import RelayTimings
from tests.integration.test_wan_hostile_mailbox import hostile_relay as relay_in_thread
from tests.ui.test_network import connected_pair, qloop, until  # noqa: F401  (qloop is a fixture)
from ui.desktop import build_window
from ui.live import NetworkService
from ui.widgets.main_window import MainWindow
from ui.widgets.member_list import KEY_ROLE
from ui.widgets.route_mark import ROUTE_ROLE, mark_rect


def row_of(w: MainWindow, key: bytes) -> QListWidgetItem | None:
    items = [w.members.list.item(i) for i in range(w.members.list.count())]
    return next((it for it in items if it.data(KEY_ROLE) == key), None)


def route_in_row(w: MainWindow, key: bytes) -> str | None:
    item = row_of(w, key)
    return None if item is None else item.data(ROUTE_ROLE)


def painted_in(w: MainWindow, key: bytes, colour: str) -> int:
    """How many pixels of the mark's place in the member's row are (close to) `colour`."""
    item = row_of(w, key)
    mark = w.members.marks.get(key)
    assert item is not None and mark is not None
    rect = mark_rect(w.members.list.visualItemRect(item), mark, w.members.list.font())
    image = w.members.list.viewport().grab().toImage()
    want = QColor(colour)
    hits = 0
    for x in range(rect.left(), rect.right() + 1):
        for y in range(rect.top(), rect.bottom() + 1):
            c = image.pixelColor(x, y)
            hits += abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 40
    return hits


def test_a_lan_session_shows_its_route_mark_in_the_member_list(qtbot: object, qloop: Callable[[Awaitable[None]], None],
                                                              tmp_path: Path) -> None:
    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        bob_key, me = bob.node.profile.public_key, live.node.profile.public_key
        stopped = False
        try:
            w.members.setVisible(True)
            await until(lambda: route_in_row(w, bob_key) == "lan", "Bob's row to have the LAN mark")
            mark = w.members.marks[bob_key]
            assert (mark.label, mark.icon) == ("LAN", "route_lan")
            assert route_in_row(w, me) is None and me not in w.members.marks  # no session with myself
            item = row_of(w, bob_key)
            assert item is not None and "Direct on the LAN" in item.toolTip()
            assert painted_in(w, bob_key, w.theme.online) > 5, "the mark is drawn in Bob's row"
            # Hovering the mark: its own tooltip, read from the session now.
            rect = mark_rect(w.members.list.visualItemRect(item), mark, w.members.list.font())
            viewport = w.members.list.viewport()
            at = rect.center()
            QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, at, viewport.mapToGlobal(at)))
            assert QToolTip.text().startswith("Direct on the LAN")
            # Elsewhere in the row: the member's tooltip, which names the route too.
            at = QPoint(rect.left() - 60, rect.center().y())
            QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, at, viewport.mapToGlobal(at)))
            assert QToolTip.text() == item.toolTip() and QToolTip.text().endswith("member · online\nDirect on the LAN")
            # Bob's node goes away: the mark with it.
            await bob.async_stop()
            stopped = True
            await until(lambda: route_in_row(w, bob_key) is None and bob_key not in w.members.marks, "Bob's mark to go")
            assert row_of(w, bob_key) is not None  # Bob is still listed, offline, without a mark
        finally:
            if not stopped:
                await bob.async_stop()
            bob.node.close()
            await live.async_stop()
            w.close()
            live.node.close()

    qloop(scenario())


def test_a_session_made_through_a_relay_shows_internet(qtbot: object, qloop: Callable[[Awaitable[None]], None],
                                                      tmp_path: Path) -> None:
    """Two nodes on loopback that meet only through a relay (no connect, no mDNS): a direct session, marked "Internet"."""

    async def scenario(url: str) -> None:
        node, live, w = relayed_window(tmp_path, qtbot)
        bob = relayed(Node(open_profile(tmp_path / "bob", display_name="bob")))
        try:
            await live.async_start()
            await bob.async_start()
            room = w.session.create_room("party")
            set_room_relays(room, [url])
            await bob.async_join(live.invite_link(room), 20)
            bob_key = bob.node.profile.public_key
            w.members.setVisible(True)
            await until(lambda: route_in_row(w, bob_key) == "direct", "Bob's row to have the Internet mark")
            mark = w.members.marks[bob_key]
            assert (mark.label, mark.icon) == ("Internet", "route_direct")
            assert mark.tooltip.startswith("Direct across the internet")
            assert painted_in(w, bob_key, w.theme.muted) > 5, "the mark is drawn in Bob's row"
        finally:
            await bob.async_stop()
            bob.node.close()
            await live.async_stop()
            w.close()
            node.close()

    with relay_in_thread(tmp_path / "relay", "honest") as relay_url:  # a real relay, on a loop of its own (not Qt's)
        qloop(scenario(relay_url))


def relayed_window(tmp_path: Path, qtbot: object) -> tuple[Node, NetworkService, MainWindow]:
    """Alice's window, shown, over a node with mDNS off that uses relays (networking not started yet)."""
    node = Node(open_profile(tmp_path / "alice", display_name="alice"))
    live = NetworkService(relayed(node))
    w = build_window(node, live)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(1100, 700)
    w.show()
    return node, live, w


def relayed(node: Node) -> NodeService:
    return NodeService(node, bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests(),
                       relay_timings=RelayTimings.for_tests())
