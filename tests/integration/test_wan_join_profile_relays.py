"""A joiner meets the room through its own profile's relays as well as its invite's (loopback, mDNS off, real processes).

* Bob's invite was made before the room had a relay (a version-1 link, no relay in it); his profile has
  the room's relay (`hubbub relay add URL`): he joins through it.
* Carol's invite names only a relay that is down; her profile has the room's relay: she joins through it.
* The single-use rule holds across the relay: Dave, with the same profile relay, cannot use Bob's
  spent link (one sentence), and is not in the room.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.invite import parse_invite
from tests.integration.clitools import hub, ok
from tests.integration.relay_proc import RelayProcess
from tests.integration.test_wan_relay_loopback import Nodes, display_name, texts, until

pytestmark = pytest.mark.timeout(240)


def dead_relay() -> str:
    """The address of a relay nobody runs (a loopback port that was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"hubbub-relay://127.0.0.1:{s.getsockname()[1]}"


def test_a_joiner_meets_through_its_profile_relays_too(tmp_path: Path) -> None:
    relay = RelayProcess(tmp_path / "relay", via_hubbub=True)
    nodes = Nodes(tmp_path)
    url = relay.start()
    down = dead_relay()
    try:
        alice, bob, carol, dave = (tmp_path / n for n in ("alice", "bob", "carol", "dave"))
        for p in (alice, bob, carol, dave):
            ok(hub(p, "name", display_name(p)))
        for p in (bob, carol, dave):
            ok(hub(p, "relay", "add", url))  # the joiners' own relay: the room's, by chance or by word of mouth
        room = ok(hub(alice, "room", "create", "Zanzibar Lantern Club")).strip()
        ok(hub(alice, "send", room, "who brings the marimba?"))
        bare = ok(hub(alice, "invite", room, "--expires", "1h")).strip()  # before the room had a relay
        ok(hub(alice, "relay", "add", down, "--room", room))
        to_down = ok(hub(alice, "invite", room, "--expires", "1h")).strip()  # names only the relay that is down
        ok(hub(alice, "relay", "remove", down, "--room", room))
        ok(hub(alice, "relay", "add", url, "--room", room))
        assert parse_invite(bare).relays == () and parse_invite(to_down).relays == (down,)

        for p in (alice, bob, carol, dave):
            nodes.start(p)
        assert ok(hub(bob, "join", bare, "--timeout", "40", timeout=60)).startswith(room)
        assert ok(hub(carol, "join", to_down, "--timeout", "40", timeout=60)).startswith(room)
        until(lambda: "who brings the marimba?" in texts(bob, room), 30, "Bob has the room's history")
        until(lambda: "who brings the marimba?" in texts(carol, room), 30, "Carol has the room's history")

        spent = hub(dave, "join", bare, "--timeout", "20", timeout=40)
        assert spent.returncode == 1 and "Traceback" not in spent.stderr, spent
        assert len([line for line in spent.stderr.splitlines() if line.strip()]) == 1, spent.stderr
        assert "used" in spent.stderr, spent.stderr
        assert room not in ok(hub(dave, "room", "list")), "Dave got in with a spent invite"
        members = ok(hub(alice, "member", "list", room))
        assert display_name(bob) in members and display_name(carol) in members and display_name(dave) not in members
    finally:
        nodes.stop_all()
        relay.stop()
