"""A join started before the joiner's node has TURN credentials still goes over TURN (tests/integration/wan.py).

Bob, behind the symmetric NAT, runs `hubbub join LINK` with no node running: his node starts, reaches
the invite's relay and meets Alice there at once, while his TURN credentials are still on their way
(the relay answers TURN requests late: tests/integration/slow_turn_relay.py). A session built then,
with host candidates only, cannot cross his NAT; before the fix it failed its whole handshake
timeout before the next one tried TURN (a join of 10 s or more). Now a session off the LAN waits
(at most 1.5 s) for credentials a relay is handing out, so the first session goes over TURN.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.clitools import hub, ok
from tests.integration.test_lan_party import CLI
from tests.integration.test_wan_hubbub_nat import HomeNode
from tests.integration.test_wan_relay_loopback import make_room, relay_row, texts, until
from tests.integration.wan import Wan, wan_available

pytestmark = [pytest.mark.netns, pytest.mark.timeout(240)]

TURN_DELAY = 0.8  # seconds the relay takes to answer a TURN request (within the node's 1.5 s wait)


def seconds_between(log: str, first: str, then: str) -> float:
    """Seconds between the first log line holding `first` and the first later one holding `then`."""
    stamps = [(datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f"), line) for line in log.splitlines()
              if len(line) > 23 and line[:4].isdigit()]
    start = next(t for t, line in stamps if first in line)
    return next((t - start).total_seconds() for t, line in stamps if t >= start and then in line)


def test_a_join_made_before_the_turn_credentials_came_goes_over_turn(tmp_path: Path) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    with Wan(tmp_path / "wan", symmetric_b=True) as wan:
        url = wan.start_relay(module="tests.integration.slow_turn_relay",
                              env={"HUBBUB_TEST_TURN_DELAY": str(TURN_DELAY)})
        (alice, bob), room = make_room(tmp_path, url, "alice", "bob")
        ok(hub(alice, "send", room, "who brings the marimba?"))
        a = HomeNode(wan.home_a, alice, tmp_path / "alice.node.log")
        a.start()
        until(lambda: relay_row(alice, url)["turn"] is True and "TURN through" in a.log.read_text(), 30,
              "Alice's node has its TURN credentials")
        link = ok(hub(alice, "invite", room, "--expires", "1h")).strip()

        t0 = time.monotonic()
        joined = wan.home_b.run([*CLI, "--profile", str(bob), "-v", "join", link, "--timeout", "40"],
                                timeout=90, check=False)
        joined_s = time.monotonic() - t0
        (tmp_path / "bob.join.log").write_text(joined.stderr)
        assert joined.returncode == 0 and joined.stdout.startswith(room), joined.stderr[-3000:]
        print(f"join_s={joined_s:.2f} (with the interpreter's and the node's start and a 1 s settle)")
        assert "TURN through" in joined.stderr, joined.stderr[-3000:]
        meet_s = seconds_between(joined.stderr, " listening on ", " connected to ")
        print(f"node started -> session with Alice: {meet_s:.2f} s")
        assert meet_s < 3.0, f"{meet_s:.1f} s from the node's start to its session: the first one had no TURN"
        assert "did not authenticate" not in joined.stderr, "a session without TURN was tried first"
        assert "who brings the marimba?" in texts(bob, room)

        b = HomeNode(wan.home_b, bob, tmp_path / "bob.node.log")
        b.start()  # a session made now (credentials again late) is over TURN too
        until(lambda: [p["route"] for p in json.loads(ok(hub(bob, "peers", "--json")))] == ["turn"], 30,
              "Bob's node has a TURN session with Alice")
        b.stop()
        a.stop()
