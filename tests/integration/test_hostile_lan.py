"""A hostile LAN, in network namespaces: offer floods, a Sybil of fake services, node-id spoofing, look-alike
public rooms, and a session set-up under 25% loss. The scenarios are `bench.hostile_*` (the bench runs
them bigger); here each must stay within the issue's bounds.
"""

from __future__ import annotations

import resource
import sys

import pytest
from nacl.signing import SigningKey

from bench import hostile_flood, hostile_lossy, hostile_spoof, hostile_sybil
from bench.hostile_common import ROOM_SECRET
from p2p.public_rooms import room_properties
from p2p.rooms import PublicRoom
from tests.conftest import is_root, require
from tests.integration.netns import NetnsLan, Probe, netns_available
from ui.services import PublicRoom as BrowserRoom
from ui.state.public_rooms import browser_lines, fingerprint

pytestmark = [pytest.mark.netns, pytest.mark.slow, pytest.mark.timeout(240)]


def need_namespaces() -> None:
    require(is_root() and netns_available(), "needs root for network namespaces")


def test_a_flood_of_signed_offers_from_fresh_keys_costs_little_and_an_honest_member_gets_through() -> None:
    need_namespaces()
    with NetnsLan(3, subnet="10.101.0") as lan:
        got = hostile_flood.measure(lan, offers=5_000, seconds=8.0)
    print("\n", {k: round(v, 2) for k, v in got.items()})
    assert got["flood_offers"] >= 5_000
    assert got["flood_rss_growth_mb"] < 50 and got["flood_rss_after_mb"] < 50
    assert got["flood_fds_max"] < 256
    assert got["flood_fd_limit"] == resource.getrlimit(resource.RLIMIT_NOFILE)[1], "soft limit raised to the hard one"
    assert got["flood_half_open_max"] <= 4 + 32
    assert got["flood_honest_msgs"] == 40, "every message of the honest member arrived"
    assert got["flood_honest_msg_ms"] < 1000 and got["flood_honest_connect_s"] < 5


def test_five_thousand_fake_services_cost_bounded_tables_and_dials_and_the_real_peer_connects() -> None:
    need_namespaces()
    with NetnsLan(3, subnet="10.102.0") as lan:
        got = hostile_sybil.measure(lan, services=5_000, seconds=10.0, baseline=False)
    print("\n", {k: round(v, 2) for k, v in got.items()})
    assert got["sybil_hints_max"] <= 256 and got["sybil_targets_max"] <= 64 and got["sybil_mdns_names_max"] <= 256
    assert got["sybil_lookups_max"] <= 4
    assert got["sybil_dials_per_s"] <= 20, "the dial budget held"
    assert got["sybil_zeroconf_cache_max"] <= 10_000
    assert got["sybil_connect_s"] < 15, "the real peer connected during the flood"
    assert got["sybil_rss_growth_mb"] < 50 and got["sybil_fds_max"] < 256


def test_node_id_spoofing_with_a_pulled_cable_the_honest_pair_reconnects_and_the_attacker_learns_no_name() -> None:
    need_namespaces()
    with NetnsLan(3, subnet="10.103.0") as lan:
        got = hostile_spoof.measure(lan, down_s=5.0, attack_s=16.0, baseline=False)
    print("\n", {k: v for k, v in got.items()})
    assert got["spoof_names_spoofed"] == 2, "the attacker announced both honest node ids"
    assert got["spoof_reconnect_s"] < 5
    assert got["attacker_heard"] == [], "the attacker received something (a name, presence) from the honest nodes"
    assert got["spoof_wrong_keys"] == got["spoof_dials_cut_at_hello"], "a spoofed address got further than HELLO"


def test_session_set_up_completes_at_25_percent_loss_both_ways() -> None:
    need_namespaces()
    with NetnsLan(2, subnet="10.104.0") as lan:
        got = hostile_lossy.measure(lan, tries=10, loss=0.25)
    print("\n", got)
    assert 20 <= got["lossy_dropped_pct"] <= 30, "the loss was not injected"
    assert got["lossy_completed"] == 10, got["lossy_errors"]


FORGE = """
import asyncio, sys
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf
from bench.mdns_forge import ROOM_SERVICE, FakeService, announce

async def main(ip, txt, instance):
    azc = AsyncZeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    for _ in range(6):
        announce(azc.zeroconf, [FakeService("00aa", ip, 7000, txt, service_type=ROOM_SERVICE, instance=instance)])
        await asyncio.sleep(0.5)
    await azc.async_close()

asyncio.run(main(sys.argv[1], eval(sys.argv[2]), sys.argv[3]))
"""


def test_a_look_alike_public_room_is_told_apart_and_a_forged_announcement_is_dropped() -> None:
    need_namespaces()
    real_room, fake_room = "a0" * 32, "f0" * 32
    with NetnsLan(3, subnet="10.105.0") as lan:
        owner = Probe(lan.hosts[0], "--secret", ROOM_SECRET, "--public", f"{real_room}:lobby:Alice")
        mallory = Probe(lan.hosts[1], "--public", f"{fake_room}:lobby:Alice")  # the same name, Alice's name
        browser = Probe(lan.hosts[2])
        owner_key, mallory_key = owner.started()["key"], mallory.started()["key"]
        browser.started()
        # Mallory also announces the real room in Alice's key, signed with another key.
        forged = room_properties(SigningKey.generate(), PublicRoom(bytes.fromhex(real_room), "lobby", (), 99,
                                                                   bytes.fromhex(owner_key), "Alice"), "00aa")
        forged["key"] = owner_key
        lan.hosts[1].run([sys.executable, "-c", FORGE, lan.hosts[1].ip, repr(forged), f"{real_room[:32]}-00aa"],
                         timeout=30)
        browser.wait(lambda e: e["event"] == "public_room" and e["room_id"] == fake_room, 15, "the look-alike")
        browser.wait(lambda e: e["event"] == "public_room" and e["room_id"] == real_room, 15, "the real room")
        rooms = [e for e in browser.events if e["event"] == "public_room"]
    assert sorted((r["room_id"], r["announcer"], r["node_id"] == "00aa") for r in rooms) == \
        sorted([(real_room, owner_key, False), (fake_room, mallory_key, False)]), "a forged announcement was listed"
    lines = browser_lines([BrowserRoom(bytes.fromhex(r["room_id"]), r["name"], tuple(r["tags"]), r["members"],
                                       owner_key=bytes.fromhex(r["owner"]), owner_name=r["owner_name"],
                                       announcer_key=bytes.fromhex(r["announcer"])) for r in rooms])
    assert len(lines) == 2 and lines[0].text() != lines[1].text()
    assert all(line.warning.startswith("⚠ 2 rooms named lobby") for line in lines)
    details = {line.room_id.hex(): line.detail for line in lines}
    assert fingerprint(bytes.fromhex(owner_key)) in details[real_room] and "Alice" in details[real_room]
    assert fingerprint(bytes.fromhex(mallory_key)) in details[fake_room] and "Alice" in details[fake_room]
