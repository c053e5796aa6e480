"""Scenario: an attacker announces the honest nodes' node ids at its own address; a cable is pulled.

    python -m bench.hostile_spoof attacker --ip IP --port P --seconds S

The attacker reads the honest nodes' `_hubbub._tcp` announcements (node id, beacons), then keeps
multicasting the same names, TXT and all, pointing at its own endpoint (a real PeerNode with its
own key) twice a second, each time at another of its addresses (so every round is a new
candidate address for the victims), with cache-flush records, and a goodbye for each name every
three seconds. It also dials every honest node directly, as a stranger, to collect whatever they send.
When it ends it prints what it received and how many dials to its endpoint were cut at HELLO.

`measure()`: hosts 0 and 1 are honest app nodes (`bench.lan_node`, test timings) that share a
room; host 2 is the attacker. Host 1's cable is pulled for a few seconds (past the keepalive
timeout), first without the attacker (the same-run baseline, `baseline_reconnect_s`), then with
it (`spoof_reconnect_s`): from the cable coming back until both ends have a session again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any

from nacl.signing import SigningKey
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from bench.crdt import _store_room, make_room
from bench.hostile_common import numbers
from bench.lan import Runner
from bench.mdns_forge import PEER_SERVICE, FakeService, announce
from p2p.config import Timings
from p2p.events import PeerEvent, Received
from p2p.node import PeerNode
from tests.integration.netns import NetnsLan

SPOOF_PORT = 7413


async def async_attacker(ips: list[str], port: int, seconds: float) -> dict[str, Any]:
    ip = ips[0]
    node = PeerNode(SigningKey.generate(), bind_host="0.0.0.0", port=port, mdns=False, timings=Timings.for_tests())
    received: list[dict[str, str]] = []

    def heard(event: PeerEvent) -> None:
        if isinstance(event, Received):
            received.append({"channel": event.channel, "payload": event.payload.decode("utf-8", "replace")})

    node.add_listener(heard)
    await node.async_start()
    azc = AsyncZeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    names: set[str] = set()
    browser = AsyncServiceBrowser(azc.zeroconf, [PEER_SERVICE], handlers=[lambda **kw: names.add(kw["name"])])
    victims: dict[str, FakeService] = {}
    dialed: set[tuple[str, int]] = set()
    end = time.monotonic() + seconds
    tick = 0
    while time.monotonic() < end:
        for name in sorted(names - set(victims)):
            info = AsyncServiceInfo(PEER_SERVICE, name)
            if not await info.async_request(azc.zeroconf, 1000) or not info.port:
                continue
            props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            victims[name] = FakeService(props.get("id", ""), ip, port, props)
            for host in info.parsed_addresses(IPVersion.V4Only):
                if (host, info.port) not in dialed:
                    dialed.add((host, info.port))
                    asyncio.ensure_future(_try_connect(node, host, info.port))
        goodbye = tick % 6 == 5
        at = ips[tick % len(ips)]
        fakes = [FakeService(v.node_id, at, port, v.txt, server=f"spoof-{v.node_id}-{at.replace('.', '-')}.local.")
                 for v in victims.values()]
        announce(azc.zeroconf, fakes, ttl=0 if goodbye else 120)
        tick += 1
        await asyncio.sleep(0.5)
    await browser.async_cancel()
    await azc.async_close()
    result = {"received": received, "spoofed": sorted(v.node_id for v in victims.values()),
              "cut_at_hello": node.malformed_signaling, "stats": node.stats()}
    await node.async_stop()
    return result


async def _try_connect(node: PeerNode, host: str, port: int) -> None:
    try:
        await node.async_connect(host, port)
    except Exception:
        pass


def _profiles(tmp: Path) -> tuple[Path, Path, bytes, int]:
    room, source, writers, key = make_room(0)
    _store_room(tmp / "a", room, source, key, writers[0])
    _store_room(tmp / "b", room, source, key, writers[1])
    return tmp / "a", tmp / "b", room.room_id, sum(len(c) for c in source.by_author.values())


def _session_event(kind: str, peer: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: bool(e["event"] == kind and e["peer"] == peer)


def _pull_cable(lan: NetnsLan, a: Runner, b: Runner, keys: tuple[str, str], down_s: float) -> float:
    """Pull host 1's cable for `down_s` (both ends notice), plug it in; seconds until both are up again."""
    ends = ((a, keys[1]), (b, keys[0]))
    marks = [len(runner.events) for runner, _ in ends]
    lan.hosts[1].link_down()
    for (runner, peer), mark in zip(ends, marks):
        if runner.stream.find(_session_event("peer_down", peer), 15, mark) is None:
            raise RuntimeError("the pulled cable went unnoticed")
    time.sleep(max(0.0, down_s - 3.0))
    marks = [len(runner.events) for runner, _ in ends]
    lan.hosts[1].link_up()
    plugged = time.time()
    ups = [runner.stream.find(_session_event("peer_up", peer), 30, mark) for (runner, peer), mark in zip(ends, marks)]
    if any(u is None for u in ups):
        return float("inf")
    return float(max(u["t"] for u in ups if u is not None)) - plugged


def measure(lan: NetnsLan, *, down_s: float = 6.0, attack_s: float = 25.0, baseline: bool = True) -> dict[str, Any]:
    """The spoofing figures, with the same run's reconnect baseline; `attacker_heard` lists what it got."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        a_dir, b_dir, room_id, entries = _profiles(tmp)
        a = Runner(lan.hosts[0], a_dir, room_id, entries, tmp / "a.log", "--test-timings")
        b = Runner(lan.hosts[1], b_dir, room_id, entries, tmp / "b.log", "--test-timings")
        try:
            keys = (a.wait("started", 30)["key"], b.wait("started", 30)["key"])
            a.wait("connected", 30)
            b.wait("connected", 30)
            without = _pull_cable(lan, a, b, keys, down_s) if baseline else float("nan")
            attacker_host = lan.hosts[2]
            prefix = attacker_host.ip.rsplit(".", 1)[0]
            ips = [attacker_host.ip] + [f"{prefix}.{150 + i}" for i in range(7)]
            for extra in ips[1:]:
                attacker_host.run(["ip", "addr", "add", f"{extra}/24", "dev", "eth0"])
            attacker = attacker_host.python("-m", "bench.hostile_spoof", "attacker", "--ips", ",".join(ips),
                                            "--port", str(SPOOF_PORT), "--seconds", str(attack_s),
                                            stdout=-1, stderr=-3, text=True)
            time.sleep(4.0)  # it has read both announcements and spoofed them several times
            spoofed = _pull_cable(lan, a, b, keys, down_s)
            out_text, _ = attacker.communicate(timeout=attack_s + 60)
            result: dict[str, Any] = json.loads(out_text.strip().splitlines()[-1])
            wrong_keys = sum(r.ask({"cmd": "stats"}, "stats")["wrong_keys"] for r in (a, b))  # the attack is over
        finally:
            for runner in (a, b):
                runner.stop()
    return {
        "spoof_reconnect_s": spoofed,
        "baseline_reconnect_s": without,
        "spoof_names_spoofed": float(len(result["spoofed"])),
        "spoof_dials_cut_at_hello": float(result["cut_at_hello"]),
        "spoof_wrong_keys": float(wrong_keys),
        "spoof_attacker_messages": float(len(result["received"])),
        "attacker_heard": result["received"],
    }


def run(quick: bool = False) -> dict[str, float]:
    """`bench hostile`'s spoofing figures (shorter outage and attack with --quick)."""
    with NetnsLan(3, subnet="10.93.0") as lan:
        return numbers(measure(lan, down_s=2.0, attack_s=9.0) if quick else measure(lan))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_spoof")
    sub = parser.add_subparsers(dest="cmd", required=True)
    attacker = sub.add_parser("attacker")
    attacker.add_argument("--ips", required=True, help="its addresses, comma separated (the first for mDNS)")
    attacker.add_argument("--port", type=int, default=SPOOF_PORT)
    attacker.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(async_attacker(args.ips.split(","), args.port, args.seconds))), flush=True)


if __name__ == "__main__":
    main()
