"""The app-level relay figures: real `hubbub node`s in two homes behind NATs (tests/integration/wan.py), a real relay and coturn.

- `relay_join_s` (median; `relay_join_max_s`): `hubbub join LINK` of a new profile in home B (behind
  the symmetric NAT), through the relay the invite carries, to Alice in home A, until the command
  returns (the room granted and its first sync done). Each join is a new joiner, a new node.
- `turn_msg_latency_p50_ms` / `p99`: Alice and Bob as `bench.lan_node`s (a NodeService each, the same
  clock), Bob behind the symmetric NAT so the session runs over TURN; Alice posts one message every
  10 ms (300; 50 with `--quick`); the time until Bob's room stored and showed it. The floor is
  relay-core's `raw_turn_latency_p50_ms` (a bare aiortc channel over the same coturn).
- `mailbox_catchup_1000_s`: Alice posts 1000 messages at once (`hubbub send ROOM -`) while Bob is
  offline; the relay acknowledges them; Alice stops. From Bob's node printing `listening` until its
  `hubbub relay list --json` says it stored them all (polled every 50 ms, so up to ~0.1 s late):
  connecting to the relay, pulling, opening, validating and storing every entry.

Needs root, nftables and coturn. The part "app" of `python -m bench relay`; `python -m bench.relay_app
[--quick]` runs it alone (`--quick`: 2 joins instead of 7).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lan import Runner, _percentile
from tests.integration.clitools import hub, ok
from tests.integration.test_wan_hubbub_nat import HomeNode
from tests.integration.test_wan_relay_loopback import make_room, relay_row, until
from tests.integration.wan import Wan


def _until_fast(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "Bob did not store every message in time"
        time.sleep(0.05)


def _turn_latency(wan: Wan, alice: Path, bob: Path, room_id: bytes, base: Path, count: int) -> tuple[float, float]:
    """p50 and p99 (ms) of post on Alice's node -> stored and shown on Bob's, one post every 10 ms, over TURN."""
    a = Runner(wan.home_a, alice, room_id, 0, base / "alice.bench.log")
    b = Runner(wan.home_b, bob, room_id, 0, base / "bob.bench.log")
    try:
        a.wait("connected", 60)
        b.wait("connected", 60)
        posted = a.ask({"cmd": "post", "n": count, "interval": 0.01}, "posted")["ids"]
        time.sleep(1.0)  # the last ones are on their way
        arrived = b.ask({"cmd": "arrivals", "ids": list(posted)}, "arrivals")["ids"]
        lost = [i for i in posted if arrived[i] is None]
        assert not lost, f"{len(lost)} of {count} messages never reached Bob"
        delays = [(arrived[i] - posted[i]) * 1000.0 for i in posted]
        return _percentile(delays, 0.5), _percentile(delays, 0.99)
    finally:
        a.stop()
        b.stop()


def run(quick: bool = False) -> dict[str, float]:
    joins, messages = (2, 1000) if quick else (7, 1000)
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-relay-") as tmp:
        base = Path(tmp)
        with Wan(base / "wan", symmetric_b=True) as wan:
            url = wan.start_relay()
            (alice,), room = make_room(base, url, "alice")
            a = HomeNode(wan.home_a, alice, base / "alice.log")
            a.start()
            until(lambda: relay_row(alice, url)["turn"] is True, 30, "Alice's node has TURN")
            times = []
            for i in range(joins):
                joiner = base / f"joiner{i}"
                ok(hub(joiner, "name", f"Joiner {i}"))
                node = HomeNode(wan.home_b, joiner, base / f"joiner{i}.log")
                node.start()
                link = ok(hub(alice, "invite", room, "--expires", "1h")).strip()
                t0 = time.monotonic()
                ok(hub(joiner, "join", link, "--timeout", "60", timeout=90))
                times.append(time.monotonic() - t0)
                node.stop()
            bob = base / f"joiner{joins - 1}"
            a.stop()
            p50, p99 = _turn_latency(wan, alice, bob, bytes.fromhex(room), base, 50 if quick else 300)
            a.start()
            lines = "".join(f"catch-up note {i}\n" for i in range(messages))
            ok(hub(alice, "send", room, "-", stdin=lines, timeout=120))
            until(lambda: relay_row(alice, url)["unacked"] == 0, 60, "the relay acknowledged the posts")
            a.stop()
            b = HomeNode(wan.home_b, bob, base / "bob.log")
            b.start()
            started = time.monotonic()
            _until_fast(lambda: int(str(relay_row(bob, url)["stored"] or 0)) >= messages, 120)
            catchup = time.monotonic() - started
            b.stop()
            count = sum(1 for m in json.loads(ok(hub(bob, "history", room, "--json"))) if "catch-up note" in m["text"])
            assert count == messages, f"Bob holds {count} of {messages} messages"
    return {"relay_join_s": statistics.median(times), "relay_join_max_s": max(times), "relay_joins": joins,
            "turn_msg_latency_p50_ms": p50, "turn_msg_latency_p99_ms": p99, "mailbox_catchup_1000_s": catchup}


if __name__ == "__main__":
    for key, value in run(quick="--quick" in sys.argv[1:]).items():
        print(f"{key:<24} {value:.4g}" if isinstance(value, float) else f"{key:<24} {value}")
