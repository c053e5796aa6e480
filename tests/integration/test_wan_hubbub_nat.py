"""Real `hubbub node`s in two homes behind NATs (tests/integration/wan.py), a real `hubbub relay serve` and coturn.

Alice's home router is a cone NAT, Bob's a symmetric one (and with `udp-blocked` no UDP leaves
either home), so the only way between them is the relay's rendezvous and then TURN. Bob joins
through the invite's relay, they chat both ways over a session `hubbub peers --json` reports as
"turn"; then the blind mailbox: Bob offline while Alice posts, Alice offline, the relay killed
(`kill -9`) and restarted, Bob back alone: identical histories, none lost, none twice. The relay's
data dir, its most verbose log and coturn's log hold no room name, text, display name, room id or
member key.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.clitools import hub, ok
from tests.integration.test_lan_party import CLI
from tests.integration.test_wan_relay_loopback import (history, learned_nothing, make_room, post_and_wait_for_the_ack,
                                                       relay_row, texts, until)
from tests.integration.netns import Host
from tests.integration.wan import Wan, wan_available

pytestmark = [pytest.mark.netns, pytest.mark.timeout(240)]


class HomeNode:
    """`hubbub node [ARGS]` for one profile on one home host (mDNS on: the home's LAN has nobody else)."""

    def __init__(self, host: Host, profile: Path, log: Path, *args: str) -> None:
        self.host, self.profile, self.log, self.args = host, profile, log, args
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = self.host.popen([*CLI, "--profile", str(self.profile), "node", *self.args],
                                        stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening "), f"{self.profile.name}'s node did not start: {line!r}\n{self.log.read_text()}"

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0, self.log.read_text()[-3000:]
        self.proc = None


def start_homes(wan: Wan, url: str, alice: Path, bob: Path, logs: Path, *alice_args: str) -> tuple[HomeNode, HomeNode]:
    """Alice's node (with `alice_args`) in home A and Bob's in home B, once Alice's is on the relay with TURN."""
    a = HomeNode(wan.home_a, alice, logs / "alice.node.log", *alice_args)
    b = HomeNode(wan.home_b, bob, logs / "bob.node.log")
    a.start()
    b.start()
    until(lambda: relay_row(alice, url)["connected"] is True and relay_row(alice, url)["turn"] is True, 30,
          "Alice's node is on the relay, with TURN")
    return a, b


@pytest.mark.parametrize("block_udp", [False, True], ids=["symmetric-nat", "udp-blocked"])
def test_homes_behind_nats_join_chat_over_turn_and_catch_up_from_the_mailbox(tmp_path: Path, block_udp: bool) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    with Wan(tmp_path / "wan", symmetric_b=True, block_udp=block_udp) as wan:
        url = wan.start_relay()
        assert wan.relay is not None
        (alice, bob), room = make_room(tmp_path, url, "alice", "bob")
        ok(hub(alice, "send", room, "who brings the marimba?"))
        a, b = start_homes(wan, url, alice, bob, tmp_path)

        link = ok(hub(alice, "invite", room, "--expires", "1h")).strip()
        t0 = time.monotonic()
        assert ok(hub(bob, "join", link, "--timeout", "60", timeout=90)).startswith(room)
        joined_s = time.monotonic() - t0
        peers = json.loads(ok(hub(bob, "peers", "--json")))
        assert [(p["name"], p["route"]) for p in peers] == [("Alice Quillfeather", "turn")], peers
        rtt_ms = peers[0]["rtt_ms"]
        assert isinstance(rtt_ms, float) and 0 < rtt_ms < 1000, peers
        print(f"relay_join_s={joined_s:.2f} rtt_ms={rtt_ms} block_udp={block_udp}")

        ok(hub(bob, "send", room, "I do, and the tuba"))
        until(lambda: "I do, and the tuba" in texts(alice, room), 30, "Bob's message reached Alice")
        until(lambda: "who brings the marimba?" in texts(bob, room), 30, "Alice's message reached Bob")

        b.stop()
        posted = [f"offline note {i}" for i in range(20)]
        post_and_wait_for_the_ack(alice, room, url, posted)
        a.stop()
        wan.relay.kill9()
        assert wan.relay.start() == url
        b.start()
        until(lambda: set(posted) <= set(texts(bob, room)), 60, "Bob caught up from the mailbox")
        b.stop()
        a_hist, b_hist = history(alice, room), history(bob, room)
        assert [m["id"] for m in b_hist] == [m["id"] for m in a_hist], "the histories differ"
        assert len({m["id"] for m in b_hist}) == len(b_hist) == 22, "a message was lost or is there twice"
        learned_nothing([tmp_path / "wan" / "relay-data", wan.relay.log, wan.coturn_log],
                        ["Zanzibar", "who brings the marimba?", "I do, and the tuba", "offline note", room], [alice, bob])
