"""mDNS discovery and sessions between hosts in network namespaces on one bridge (no explicit addresses)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import is_root, require
from tests.integration.netns import NetnsLan, Probe, netns_available

pytestmark = [pytest.mark.netns, pytest.mark.timeout(90)]

ROOM = "a1" * 16
SECRET = "5e" * 16
Event = dict[str, Any]


def connected(peer: str, after: float = 0.0) -> Callable[[Event], bool]:
    return lambda e: e["event"] == "PeerConnected" and e["peer"] == peer and e["t"] > after


def test_mdns_discovery_mesh_public_rooms_and_link_flap() -> None:
    require(is_root() and netns_available(), "needs root for network namespaces")
    with NetnsLan(3) as lan:
        secret = f"{ROOM}:{SECRET}:room"
        first = Probe(lan.hosts[0], "--secret", secret, "--public", f"{ROOM}:LAN party")
        a = first.started()
        probes = [first] + [Probe(h, "--secret", secret) for h in lan.hosts[1:]]
        infos = [a] + [p.started() for p in probes[1:]]
        keys = [i["key"] for i in infos]
        ids = [i["node_id"] for i in infos]

        for i, probe in enumerate(probes):
            for j, other in enumerate(keys):
                if i != j:
                    probe.wait(connected(other), 15, f"host {i} connected to host {j}")
                    probe.wait(lambda e, o=other: e["event"] == "RoomMatched" and e["peer"] == o,
                               5, f"host {i} matched the room with host {j}")

        for i in (1, 2):
            new, old = probes[i], probes[0]
            starting = new.wait(lambda e: e["event"] == "starting", 1, "starting")
            found = new.wait(lambda e: e["event"] == "discovered" and e["node_id"] == ids[0], 1, "found")
            found_back = old.wait(lambda e, n=ids[i]: e["event"] == "discovered" and e["node_id"] == n,
                                  1, "found back")
            up = new.wait(connected(keys[0]), 1, "connected")
            dialer_found = found if ids[i] < ids[0] else found_back
            print(f"\nhost {i}: start -> sees running host 0: {found['t'] - starting['t']:.2f} s "
                  f"(announcing took {infos[i]['start_s']:.2f} s); dialer discovered -> "
                  f"authenticated: {up['t'] - dialer_found['t']:.3f} s")

        room = probes[1].wait(lambda e: e["event"] == "public_room", 10, "public room")
        assert (room["room_id"], room["name"], room["node_id"]) == (ROOM, "LAN party", ids[0])
        assert probes[1].count(lambda e: e["event"] == "public_room" and e["node_id"] == ids[2]) == 0

        lan.hosts[2].link_down()
        down = time.monotonic()
        probes[0].wait(lambda e: e["event"] == "PeerDisconnected" and e["peer"] == keys[2],
                       10, "host 0 noticed host 2 is gone")
        print(f"link down noticed after {time.monotonic() - down:.2f} s")
        lan.hosts[2].link_up()
        up_again = time.monotonic()
        probes[0].wait(connected(keys[2], after=up_again), 15, "host 0 reconnected to host 2")
        probes[2].wait(connected(keys[0], after=up_again), 5, "host 2 reconnected to host 0")
        print(f"reconnected {time.monotonic() - up_again:.2f} s after the link came back")
        assert probes[0].wait(connected(keys[1]), 1, "host 1 still connected")
