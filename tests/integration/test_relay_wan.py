"""p2p across the internet in namespaces (tests/integration/wan.py): two NATs, one symmetric, a relay and coturn.

Two `p2p.relay.probe` nodes behind the two routers meet under a rendezvous token at the relay,
signal through it (sealed) and get an authenticated session that ICE puts on TURN (on a direct,
server-reflexive pair when both NATs are cones: coturn is the first, STUN, server too); with UDP
blocked at both routers it goes over TURN on TCP, and after a failed TURN/UDP session with a peer the
next one uses TURN/TCP. Without TURN they do not connect at all; when
the TURN server dies, the dead session is noticed and a new one over a new allocation follows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.integration.netns import Host, Probe
from tests.integration.wan import RELAY_IP, Wan, wan_available

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]
ROOM, SECRET = "c4" * 16, "d5" * 16
Event = dict[str, Any]


def probes(wan: Wan, url: str, workdir: Path) -> tuple[Probe, Probe, str, str]:
    token = f"{os.urandom(16).hex()}:{os.urandom(32).hex()}"
    common = ["--relay", url, "--token", token, "--no-mdns", "--secret", f"{ROOM}:{SECRET}:room"]
    a = Probe(wan.home_a, *common, module="p2p.relay.probe", stderr=(workdir / "a.log").open("w"))
    b = Probe(wan.home_b, *common, module="p2p.relay.probe", stderr=(workdir / "b.log").open("w"))
    return a, b, a.started(30)["key"], b.started(30)["key"]


def session_with(peer: str, after: float = 0.0) -> Callable[[Event], bool]:
    return lambda e: e["event"] == "session" and e["peer"] == peer and e["t"] > after


def wait_for_log(path: Path, text: str, timeout: float = 5.0) -> str:
    """coturn's log once it holds `text` (coturn writes it in bursts), or as it is after `timeout`."""
    deadline = time.monotonic() + timeout
    while text not in (log := path.read_text(errors="replace")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return log


def exchange(a: Probe, b: Probe, key_a: str, key_b: str) -> None:
    """A stamped message each way over the session; both arrive."""
    for sender, receiver, to, frm in ((a, b, key_b, key_a), (b, a, key_a, key_b)):
        mark = len(receiver.events)
        sender.command(f"stamp {to} sync {ROOM}")
        receiver.wait(lambda e: e["event"] == "Received" and e["peer"] == frm, 10, "a message over TURN", after=mark)


@pytest.mark.parametrize("block_udp", [False, True], ids=["symmetric-nat", "udp-blocked"])
def test_two_homes_behind_nats_get_a_session_over_turn(tmp_path: Path, block_udp: bool) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    with Wan(tmp_path, symmetric_b=True, block_udp=block_udp) as wan:
        url = wan.start_relay()
        a, b, key_a, key_b = probes(wan, url, tmp_path)
        ready = a.wait(lambda e: e["event"] == "relay_connected", 10, "relay connection")
        assert ready["udp_ok"] is (not block_udp)
        started = time.monotonic()
        on_a = a.wait(session_with(key_b), 30, "a session from home A to home B")
        on_b = b.wait(session_with(key_a), 10, "a session from home B to home A")
        print(f"\nsession over TURN ({'TCP' if block_udp else 'UDP'}) after {on_a['t'] - started:.2f} s")
        assert on_a["route"] == "turn" and on_b["route"] == "turn"
        transport = "tcp" if block_udp else "udp"
        assert any(f"transport={transport}" in u for u in on_a["ice"]), on_a["ice"]
        exchange(a, b, key_a, key_b)
        log = wait_for_log(wan.coturn_log, "Forbidden IP")
        assert "Forbidden IP" in log  # the private host candidates were denied, never sent to
        assert "ENETUNREACH" not in log and "Network is unreachable" not in log


@pytest.mark.parametrize("symmetric_b", [False, True], ids=["cone-cone", "cone-symmetric"])
def test_ice_tries_a_direct_pair_through_the_nats_before_turn(tmp_path: Path, symmetric_b: bool) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    # The relay's list starts with coturn as a STUN server: behind two cone NATs the server-reflexive
    # pair punches through and wins; a symmetric NAT maps every destination apart, so only TURN remains.
    with Wan(tmp_path, symmetric_b=symmetric_b) as wan:
        url = wan.start_relay()
        a, b, key_a, key_b = probes(wan, url, tmp_path)
        ready = a.wait(lambda e: e["event"] == "relay_connected", 10, "relay connection")
        assert ready["ice"][0].startswith("stun:"), ready["ice"]
        started = time.monotonic()
        on_a = a.wait(session_with(key_b), 30, "a session from home A to home B")
        on_b = b.wait(session_with(key_a), 10, "a session from home B to home A")
        print(f"\nsession ({on_a['route']}) after {on_a['t'] - started:.2f} s")
        expected = "turn" if symmetric_b else "direct"
        assert on_a["route"] == on_b["route"] == expected, (on_a, on_b)
        assert on_a["attempt"] == 0 and on_a["ice"][0].startswith("stun:"), on_a
        exchange(a, b, key_a, key_b)


def test_when_turn_over_udp_fails_with_a_peer_the_next_session_uses_turn_over_tcp(tmp_path: Path) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    # Router B passes B's small UDP packets (the STUN probe and TURN's requests: UDP looks fine) but not
    # DTLS's certificates, so the first session fails after ICE; the node then builds one over TCP.
    with Wan(tmp_path, symmetric_b=True, udp_max_b=300) as wan:
        url = wan.start_relay()
        a, b, key_a, key_b = probes(wan, url, tmp_path)
        ready = b.wait(lambda e: e["event"] == "relay_connected", 10, "relay connection")
        assert ready["udp_ok"] is True
        on_b = b.wait(session_with(key_a), 60, "a session over TURN/TCP after TURN/UDP failed")
        assert on_b["route"] == "turn" and on_b["attempt"] == 1, on_b
        assert any("transport=tcp" in u for u in on_b["ice"]) and not any("transport=udp" in u for u in on_b["ice"])
        exchange(a, b, key_a, key_b)


def test_without_turn_a_symmetric_nat_never_connects(tmp_path: Path) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    with Wan(tmp_path, symmetric_b=True) as wan:
        url = wan.start_relay(turn=False)
        a, b, key_a, key_b = probes(wan, url, tmp_path)
        a.wait(lambda e: e["event"] == "relay_connected", 10, "relay connection")
        assert a.stream.find(session_with(key_b), 12) is None  # they met and signaled, but ICE had no path
        assert b.count(lambda e: e["event"] == "PeerConnected") == 0


def test_a_lost_turn_allocation_is_rebuilt(tmp_path: Path) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    with Wan(tmp_path, symmetric_b=True) as wan:
        url = wan.start_relay()
        a, b, key_a, key_b = probes(wan, url, tmp_path)
        a.wait(session_with(key_b), 30, "the first session")
        assert wan._coturn is not None
        os.killpg(wan._coturn.pid, 9)  # every allocation is gone; aioice would never re-allocate by itself
        wan._coturn.wait(5)
        wan._coturn = None
        killed = time.monotonic()
        a.wait(lambda e: e["event"] == "PeerDisconnected" and e["peer"] == key_b, 15, "the dead session noticed")
        wan.start_coturn()
        again = a.wait(session_with(key_b, after=killed), 40, "a new session over a new allocation")
        print(f"\nrebuilt {again['t'] - killed:.2f} s after coturn was killed")
        assert again["route"] == "turn"
        exchange(a, b, key_a, key_b)


def test_the_routers_nat_and_isolate_the_homes(tmp_path: Path) -> None:
    require(wan_available(), "needs root, nftables and coturn (turnserver) for the WAN namespaces")
    with Wan(tmp_path, symmetric_b=True) as wan:
        # A home reaches the public side, not the other home; the public side cannot open a connection home.
        def tcp(host: Host, ip: str, port: int) -> bool:
            code = f"import socket; s=socket.socket(); s.settimeout(1); s.connect(('{ip}', {port}))"
            return host.run([sys.executable, "-c", code], check=False).returncode == 0

        def serve(host: Host) -> None:
            host.python("-m", "http.server", "--bind", host.ip, "8080", stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while f"{host.ip}:8080" not in host.run(["ss", "-lnt"], check=False).stdout:
                assert time.monotonic() < deadline, f"no listener on {host.ip}:8080"
                time.sleep(0.05)

        serve(wan.relay_host)
        serve(wan.home_b)
        assert tcp(wan.home_a, RELAY_IP, 8080)
        assert tcp(wan.home_b, RELAY_IP, 8080)
        assert not tcp(wan.home_a, wan.home_b.ip, 8080)  # no route between the homes but through their NATs
        assert not tcp(wan.relay_host, "198.18.0.12", 8080)  # ct state new drop on router B's WAN
        assert not tcp(wan.relay_host, wan.home_b.ip, 8080)
