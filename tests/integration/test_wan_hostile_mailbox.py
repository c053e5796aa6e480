"""A hostile relay at app level: its mailbox drops, alters, reorders or replays the envelopes it hands out.

A real RelayServer (in a thread of this test, on loopback) whose GET answers are tampered with, and
real `hubbub node`s (loopback, mDNS off). Bob is offline while Alice posts; Bob comes back alone
and pulls: nothing altered is stored (it does not open); what is reordered or replayed is never
opened (the relay client refuses an answer out of order as a whole, and `hubbub relay list` says
so); what is dropped is missing, with what follows it in the author's chain. Then Alice comes back
and they meet (a session, no mailbox): both end with identical histories.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from p2p.relay.config import RelayLimits
from p2p.relay.dispatch import Dispatcher
from p2p.relay.server import RelayServer
from p2p.relay.wire import Frame, Kind, encode, read_u32, read_u64, u64
from tests.integration.clitools import hub, ok
from tests.integration.test_wan_relay_loopback import (Nodes, history, make_room, post_and_wait_for_the_ack, relay_row,
                                                       texts, until)

pytestmark = pytest.mark.timeout(120)


class TamperingMailbox(Dispatcher):
    """Answers GETs from the real store, then tampers as `mode` says: drop, alter, reorder or replay."""

    mode = "honest"

    async def _async_get(self, conn: Any, frame: Frame) -> None:
        auth, after, limit = frame.fields
        found, last = await self.server.in_store(self.server.store.get, auth, read_u64(after),
                                                 max(1, min(read_u32(limit), self.limits.max_batch)),
                                                 self.limits.max_frame - 4096)
        if self.mode == "drop":
            found = [(s, e) for s, e in found if s % 2]
        elif self.mode == "alter":
            found = [(s, e if s % 2 else e[:-1] + bytes([e[-1] ^ 1])) for s, e in found]
        elif self.mode == "reorder":  # (the client refuses an answer out of order as a whole)
            found = list(reversed(found))
        elif self.mode == "replay":  # each envelope twice (refused in the same way)
            found = [pair for pair in found for _ in range(2)]
        conn.send(encode(Kind.ENVELOPES, frame.request, u64(last), items=[u64(s) + e for s, e in found]))


@contextmanager
def hostile_relay(data: Path, mode: str) -> Iterator[str]:
    """A relay on loopback in a thread of its own, its mailbox tampering as `mode` says; yields its address."""
    loop = asyncio.new_event_loop()
    server = RelayServer(data, RelayLimits())
    dispatcher = TamperingMailbox(server)
    dispatcher.mode = mode
    server.dispatcher = dispatcher
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    host, port = asyncio.run_coroutine_threadsafe(server.async_start("127.0.0.1", 0), loop).result(15)
    try:
        yield f"hubbub-relay://{host}:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(server.async_stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.mark.parametrize("mode", ["drop", "alter", "reorder", "replay"])
def test_what_a_hostile_mailbox_hands_out_changes_nothing_and_members_converge(tmp_path: Path, mode: str) -> None:
    nodes = Nodes(tmp_path)
    with hostile_relay(tmp_path / "relay", mode) as url:
        try:
            (alice, bob), room = make_room(tmp_path, url, "alice", "bob")
            nodes.start(alice)
            nodes.start(bob)
            link = ok(hub(alice, "invite", room, "--expires", "1h")).strip()
            assert ok(hub(bob, "join", link, "--timeout", "40", timeout=60)).startswith(room)
            nodes.stop(bob)
            posted = [f"while away {i}" for i in range(10)]
            post_and_wait_for_the_ack(alice, room, url, posted)
            nodes.stop(alice)

            nodes.start(bob)
            until(lambda: int(str((r := relay_row(bob, url))["pulled"])) > 0 or bool(r["error"]), 30,
                  "Bob pulled from the mailbox, or was refused")
            row = relay_row(bob, url)
            nodes.stop(bob)
            got = [t for t in texts(bob, room) if t.startswith("while away")]
            assert len(got) == len(set(got)) and set(got) <= set(posted)  # nothing twice, nothing made up
            if mode in ("reorder", "replay"):
                assert got == [] and "out of order" in str(row["error"]), row
            else:
                assert got != posted  # the dropped or altered ones (and what comes after them in Alice's chain)
            if mode == "alter":
                assert int(str(row["unreadable"])) > 0, row

            nodes.start(alice)  # they meet again (through the relay's rendezvous: its forwarding is honest)
            nodes.start(bob)
            until(lambda: [m["id"] for m in history(bob, room)] == [m["id"] for m in history(alice, room)], 40,
                  "Alice and Bob converged")
            assert [t for t in texts(bob, room) if t.startswith("while away")] == posted
        finally:
            nodes.stop_all()
