"""`hubbub join` through running nodes on loopback (mDNS off; Bob's node dials Alice's): it prints the room's id and name."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.clitools import hub, ok, one_line_error, start_node, stop_node

pytestmark = pytest.mark.timeout(120)


def test_join_through_running_nodes_prints_the_room(tmp_path: Path) -> None:
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    ok(hub(alice, "name", "alice"))
    ok(hub(bob, "name", "bob"))
    room = ok(hub(alice, "room", "create", "Weekend LAN Party")).strip()
    first = ok(hub(alice, "send", room, "who brings the switch?")).strip()
    a_log, b_log = tmp_path / "alice.log", tmp_path / "bob.log"
    a_node, port = start_node(alice, a_log)
    b_node = None
    try:
        link = ok(hub(alice, "invite", room, "--expires", "1h")).strip()
        b_node, _ = start_node(bob, b_log, "--connect", f"127.0.0.1:{port}")
        joined = ok(hub(bob, "join", link, "--timeout", "30"))
        assert joined == f"{room}  Weekend LAN Party\n"
        assert "ran `join` for the CLI" in b_log.read_text()
        # Bob is a member now: his post reaches Alice, and what needs a moderator is refused in a sentence.
        mid = ok(hub(bob, "send", room, "I do")).strip()
        deadline = time.monotonic() + 20
        while mid not in [m["id"] for m in json.loads(ok(hub(alice, "history", room, "--json")))]:
            assert time.monotonic() < deadline, "Bob's message did not reach Alice"
            time.sleep(0.2)
        deadline = time.monotonic() + 20
        while first not in [m["id"] for m in json.loads(ok(hub(bob, "history", room, "--json")))]:
            assert time.monotonic() < deadline, "Alice's message did not reach Bob"
            time.sleep(0.2)
        assert "moderator" in one_line_error(hub(bob, "pin", room, first))
        assert "already a member" in one_line_error(hub(bob, "join", link, "--timeout", "5"))
    finally:
        if b_node is not None:
            stop_node(b_node, bob, b_log)
        stop_node(a_node, alice, a_log)
