"""LAN party: four `hubbub node`s in network namespaces on one bridge, found by mDNS only, no relay.

One host creates a room and invites the others, who join through the CLI (forwarded to their
running node). Everyone posts concurrently with `hubbub send`, one host's cable is pulled while
the others keep posting, then plugged back in. Every host must converge to the same history:
exactly the messages every `send` reported, none lost, none duplicated.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import is_root, require
from tests.integration.netns import Host, NetnsLan, netns_available

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

HUBBUB = Path(sys.executable).with_name("hubbub")
CLI = [str(HUBBUB)] if HUBBUB.exists() else [sys.executable, "-m", "app.cli"]


class HubbubHost:
    """One host of the party: its profile, its running `hubbub node`, and the CLI on that profile."""

    def __init__(self, host: Host, profile: Path, log: Path) -> None:
        self.host = host
        self.profile = profile
        self.log_path = log
        self.log: IO[str] = log.open("w")
        self.node: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.node = self.host.popen([*CLI, "--profile", str(self.profile), "node"],
                                    stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.node.stdout is not None
        line = self.node.stdout.readline()
        assert line.startswith("listening "), f"host {self.host.index} node did not start: {line!r}\n{self.logs()}"
        assert (self.profile / "node.sock").exists()

    def cli(self, *args: str, timeout: float = 60) -> str:
        done = self.host.run([*CLI, "--profile", str(self.profile), *args], timeout=timeout, check=False)
        assert done.returncode == 0, f"host {self.host.index}: hubbub {' '.join(args)} failed: {done.stderr}"
        return done.stdout.strip()

    def history_ids(self) -> list[str]:
        return [m["id"] for m in json.loads(self.cli("history", "party", "--json"))]

    def stop(self) -> int:
        assert self.node is not None
        self.node.send_signal(signal.SIGTERM)  # reaches `ip netns exec`, which execs the node itself
        try:
            return self.node.wait(15)
        finally:
            self.log.close()

    def key_prefix(self) -> str:
        """The node's public key as its log names peers (first 12 hex digits)."""
        self.log.flush()
        match = re.search(r"node ([0-9a-f]{16}) listening", self.log_path.read_text())
        assert match, f"host {self.host.index} did not log its key"
        return match.group(1)[:12]

    def logs(self) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text().splitlines()[-40:])


def post_all(hosts: list[HubbubHost], count: int, tag: str) -> list[str]:
    """Every host posts `count` messages, all hosts at once; returns the ids the sends printed."""
    def post(h: HubbubHost) -> list[str]:
        return [h.cli("send", "party", f"{tag} host{h.host.index} #{i}") for i in range(count)]

    with ThreadPoolExecutor(len(hosts)) as pool:
        return [mid for ids in pool.map(post, hosts) for mid in ids]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)


def converged(hosts: list[HubbubHost], expected: set[str], timeout: float) -> dict[int, list[str]]:
    deadline = time.monotonic() + timeout
    seen: dict[int, list[str]] = {}
    while time.monotonic() < deadline:
        seen = {h.host.index: h.history_ids() for h in hosts}
        if all(set(ids) == expected for ids in seen.values()):
            return seen
        time.sleep(0.3)
    missing = {i: len(expected - set(ids)) for i, ids in seen.items()}
    raise AssertionError(f"no convergence within {timeout} s; missing per host: {missing}\n"
                         + "\n".join(f"--- host {h.host.index}\n{h.logs()}" for h in hosts))


def test_lan_party_four_nodes_mdns_invites_concurrent_posts_and_a_pulled_cable(tmp_path: Path) -> None:
    require(is_root() and netns_available(), "needs root for network namespaces")
    started = time.monotonic()
    with NetnsLan(4, subnet="10.79.0") as lan:
        hosts = [HubbubHost(h, tmp_path / f"p{h.index}", tmp_path / f"node{h.index}.log") for h in lan.hosts]
        threads = [threading.Thread(target=h.start) for h in hosts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        room_id = hosts[0].cli("room", "create", "party")
        assert len(room_id) == 64
        links = [hosts[0].cli("invite", "party") for _ in hosts[1:]]
        assert len(set(links)) == 3 and all(link.startswith("hubbub://") for link in links)

        with ThreadPoolExecutor(3) as pool:
            joined = list(pool.map(lambda hl: hl[0].cli("join", hl[1], "--timeout", "30"), zip(hosts[1:], links)))
        assert joined == [f"{room_id}  party"] * 3  # `join` prints the id, then the name
        print(f"\nfour nodes up and joined after {time.monotonic() - started:.1f} s")

        sent = post_all(hosts, 8, "together")
        away = hosts[3]
        away.host.link_down()
        down = time.monotonic()
        apart = post_all(hosts, 5, "apart")  # host 3 posts offline; the others post to each other
        sent += apart
        assert not set(apart[-5:]) & set(hosts[0].history_ids()), "host 3's posts crossed a pulled cable"
        # Keep the cable out until the others drop their sessions with host 3, so it must reconnect.
        gone = f"disconnected from {away.key_prefix()}"
        wait_for(lambda: all(gone in h.log_path.read_text() for h in hosts[:3]), 20,
                 "the others noticed host 3 was gone")
        print(f"sessions with host 3 dropped {time.monotonic() - down:.1f} s after the cable was pulled")
        away.host.link_up()
        back = time.monotonic()
        expected = set(sent)
        assert len(expected) == len(sent) == 4 * 13, "send printed a duplicate id"

        seen = converged(hosts, expected, 45)
        print(f"converged {time.monotonic() - back:.1f} s after the cable came back; "
              f"{len(expected)} messages on every host")
        for ids in seen.values():
            assert len(ids) == len(set(ids)) == len(expected), "a duplicated message"
        orders = {tuple(ids) for ids in seen.values()}
        assert len(orders) == 1, "hosts show the same messages in different orders"

        codes = [h.stop() for h in hosts]
        assert codes == [0, 0, 0, 0], [h.logs() for h in hosts]
        for h in hosts:
            assert not (h.profile / "node.sock").exists(), "the control socket outlived its node"
    print(f"LAN party took {time.monotonic() - started:.1f} s")



OWNER = """
import asyncio, json, sys
from pathlib import Path
from app.node import Node
from app.profile import open_profile
from app.service import NodeService
from p2p.config import Timings

async def main():
    svc = NodeService(Node(open_profile(Path(sys.argv[1]), display_name="host")), timings=Timings.for_tests())
    await svc.async_start()
    room = svc.create_room("lobby")
    room.update_settings(public=True, tags=["games", "lan"])
    print(json.dumps({"room": room.id.hex()}), flush=True)
    while "hello from the guest" not in [m.text for m in room.history("general")]:
        await asyncio.sleep(0.05)
    print(json.dumps({"members": len(room.members())}), flush=True)
    await asyncio.sleep(0.3)
    await svc.async_stop()

asyncio.run(main())
"""

GUEST = """
import asyncio, json, sys, time
from pathlib import Path
from app.node import Node
from app.profile import open_profile
from app.service import NodeService
from p2p.config import Timings

async def main():
    svc = NodeService(Node(open_profile(Path(sys.argv[1]), display_name="guest")), timings=Timings.for_tests())
    await svc.async_start()
    deadline = time.monotonic() + 15
    while not svc.public_rooms() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    seen = svc.public_rooms()
    print(json.dumps({"public": [[r.room_id.hex(), r.name, list(r.tags), r.member_count] for r in seen]}), flush=True)
    room = await svc.async_join_public(seen[0].room_id, 15)
    room.post("general", "hello from the guest")
    print(json.dumps({"joined": room.id.hex(), "role": int(room.my_role() or 0), "name": room.name}), flush=True)
    await asyncio.sleep(2)
    await svc.async_stop()

asyncio.run(main())
"""


def test_public_room_is_announced_on_the_lan_and_joined_in_one_step(tmp_path: Path) -> None:
    require(is_root() and netns_available(), "needs root for network namespaces")
    with NetnsLan(2, subnet="10.81.0") as lan:
        owner = lan.hosts[0].python("-c", OWNER, str(tmp_path / "owner"), stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        assert owner.stdout is not None
        room_id = json.loads(owner.stdout.readline())["room"]
        guest = lan.hosts[1].run([sys.executable, "-c", GUEST, str(tmp_path / "guest")], timeout=45, check=False)
        assert guest.returncode == 0, guest.stderr[-3000:]
        lines = [json.loads(line) for line in guest.stdout.splitlines()]
        assert lines[0]["public"] == [[room_id, "lobby", ["games", "lan"], 1]]
        assert lines[1]["joined"] == room_id and lines[1]["name"] == "lobby" and lines[1]["role"] > 0
        assert json.loads(owner.stdout.readline()) == {"members": 2}
        assert owner.wait(10) == 0
