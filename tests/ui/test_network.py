"""Two nodes in one test, over real aiortc on loopback: the window's node and a headless one.

A message posted headless appears in the window live (with its unread and mention badges), one posted
in the window reaches the headless node, and the headless node's typing shows in the typing line.
The asyncio loop is qasync's, running inside Qt's, as in the real app.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from app.models import short_id
from app.node import Node
from app.profile import open_profile
from app.room import Room
from app.service import NodeService
from p2p.config import Timings
from tests.integration.test_service_loopback import service as headless
from tests.integration.test_service_loopback import until as wait_until
from ui.desktop import build_window
from ui.live import NetworkService
from ui.widgets.main_window import MainWindow

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[Callable[[Awaitable[None]], None]]:
    """Run a coroutine on a qasync loop inside Qt's (as `ui.desktop.launch` does)."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)

    def run(coro: Awaitable[None]) -> None:
        loop.run_until_complete(asyncio.wait_for(coro, 60))

    yield run
    loop.close()
    asyncio.set_event_loop(None)
    gc.collect()  # finalise the sessions' objects here, not inside some later compile (CPython 3.11 + PySide)


async def until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    await wait_until(check, timeout, what)


def window_texts(w: MainWindow) -> list[str]:
    return [m.text for m in w.model.messages()]


async def connected_pair(tmp_path: Path, qtbot: object) -> tuple[MainWindow, NetworkService, NodeService, Room, Room]:
    """Alice's window with networking, Bob headless, Bob joined Alice's room through an invite link."""
    node = Node(open_profile(tmp_path / "alice", display_name="alice"))
    live = NetworkService(headless_service(node))
    w = build_window(node, live)
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.show()
    bob = headless(tmp_path / "bob", "bob")
    await live.async_start()
    await bob.async_start()
    room = w.session.create_room("party")
    room.create_channel("random", "text")
    link = live.invite_link(room)
    await bob.async_connect(*live.service.address)
    broom = await bob.async_join(link, 15)
    await until(lambda: room.id in bob.peer.shared_rooms(node.profile.public_key), "the room to be shared")
    return w, live, bob, room, broom


def headless_service(node: Node) -> NodeService:
    return NodeService(node, bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests())


async def stop(w: MainWindow, live: NetworkService, bob: NodeService) -> None:
    await bob.async_stop()
    bob.node.close()
    await live.async_stop()
    w.close()
    live.node.close()


def test_messages_and_typing_cross_between_window_and_headless_node(qtbot: object, qloop: Callable[[Awaitable[None]], None],
                                                                  tmp_path: Path) -> None:
    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        try:
            assert w.session.channel == "general"
            # Bob (headless) -> the window, live into the open channel.
            broom.post("general", "hello from bob")
            await until(lambda: "hello from bob" in window_texts(w), "Bob's message in the window")
            # The window -> Bob.
            w.submit("hi from the window")
            await until(lambda: "hi from the window" in [m.text for m in broom.history("general")], "the window's message at Bob")
            # Presence: Bob shows online in Alice's member list.
            bob_short = short_id(bob.node.profile.public_key)
            await until(lambda: live.presence(room.id).get(bob_short) == "online", "Bob to show online")
            # Typing.
            bob.set_typing(broom, "general", True)
            await until(lambda: "bob" in w.typing_line.text(), "Bob's typing indicator")
            bob.set_typing(broom, "general", False)
            await until(lambda: "bob" not in w.typing_line.text(), "Bob's typing to stop")
            # A mention in another channel: unread and mention badges, and a notification while unfocused.
            notes: list[tuple[str, str]] = []
            w.session.notification.connect(lambda title, body: notes.append((title, body)))
            w.session.focused = False
            random = next(c.id for c in broom.channels() if c.name == "random")
            broom.post(random, "@alice look here")
            await until(lambda: w.session.unread(room.id, random) == (1, 1), "the unread mention badge")
            assert w.session.summaries()[0].mentions == 1
            await until(lambda: bool(notes), "a mention notification")
        finally:
            await stop(w, live, bob)

    qloop(scenario())
