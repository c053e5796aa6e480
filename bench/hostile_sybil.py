"""Scenario: thousands of fake mDNS services (a Sybil), and a real peer that must still connect.

    python -m bench.hostile_sybil attacker --services N --seconds S --port P --ips IP,IP,...

The attacker multicasts N fake `_hubbub._tcp` services (random node ids, random beacons, spread
over the addresses it holds, all at port P) every two seconds for S seconds, and counts the TCP
connections it gets on P: the victim's dials. It prints their times as JSON when it ends.

`measure()`: host 0 is the victim, host 1 the attacker, host 2 the real peer (same room). First a
baseline: the real peer starts, connects, leaves. Then the flood; two seconds in, the real peer
starts again and must connect (`sybil_connect_s`, from its
`starting` to the victim's PeerConnected; its own mDNS announcement takes 1.5 s of that).
`sybil_dials_per_s` is the most dials the victim began in any second (its own record; the
attacker's count is `sybil_dials_seen_per_s`); the table sizes are the victim's largest.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import time


from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from bench.hostile_common import ROOM_SECRET, connected_to, cpu_pct, numbers, peak_rate, stats_between
from bench.mdns_forge import FakeService, announce
from tests.integration.netns import NetnsLan, Probe


async def async_attacker(services: int, seconds: float, port: int, ips: list[str]) -> list[float]:
    dials: list[float] = []

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        dials.append(time.monotonic())
        writer.close()

    server = await asyncio.start_server(accepted, "0.0.0.0", port)
    azc = AsyncZeroconf(interfaces=[ips[0]], ip_version=IPVersion.V4Only)
    fakes = [FakeService(os.urandom(8).hex(), ips[i % len(ips)], port,
                         {"v": "2", "id": "", "b": base64.b64encode(os.urandom(32)).decode()})
             for i in range(services)]
    fakes = [FakeService(f.node_id, f.ip, f.port, {**f.txt, "id": f.node_id}) for f in fakes]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        announce(azc.zeroconf, fakes)
        await asyncio.sleep(2.0)
    await azc.async_close()
    server.close()
    return dials


def measure(lan: NetnsLan, *, services: int, seconds: float, baseline: bool = True) -> dict[str, float]:
    """The Sybil figures, with the same run's connect-time baseline."""
    victim_host, attacker, peer_host = lan.hosts[0], lan.hosts[1], lan.hosts[2]
    prefix = attacker.ip.rsplit(".", 1)[0]
    ips = [attacker.ip] + [f"{prefix}.{100 + i}" for i in range(63)]
    for ip in ips[1:]:
        attacker.run(["ip", "addr", "add", f"{ip}/24", "dev", "eth0"])
    victim = Probe(victim_host, "--secret", ROOM_SECRET, "--report", "0.5")
    victim.started()

    def real_peer() -> tuple[Probe, float]:
        probe = Probe(peer_host, "--secret", ROOM_SECRET)
        info = probe.started()
        up = victim.wait(connected_to(info["key"], probe.spawned), 30, "the victim connected to the real peer")
        return probe, up["t"] - probe.events[0]["t"]  # from its "starting"

    baseline_s = float("nan")
    if baseline:
        first, baseline_s = real_peer()
        first.command("quit")
        first.proc.wait(10)
    time.sleep(1.0)
    rss_before = statistics.median(e["rss_mb"] for e in stats_between(victim, time.monotonic() - 2.0, time.monotonic()))

    began = time.monotonic()
    flood = attacker.python("-m", "bench.hostile_sybil", "attacker", "--services", str(services),
                            "--seconds", str(seconds), "--port", "7412", "--ips", ",".join(ips),
                            stdout=-1, stderr=-3, text=True)
    time.sleep(2.0)
    second, connect_s = real_peer()
    out_text, _ = flood.communicate(timeout=seconds + 60)
    ended = time.monotonic()
    seen: list[float] = json.loads(out_text.strip().splitlines()[-1])
    dials = [t for t in victim.ask("dialtimes", "dialtimes")["times"] if began <= t <= ended]
    during = stats_between(victim, began, ended)

    def most(key: str) -> float:
        return float(max(e.get(key, 0) for e in during))

    second.command("quit")
    victim.command("quit")
    return {
        "sybil_services": float(services),
        "sybil_seconds": ended - began,
        "sybil_dials_per_s": peak_rate(dials),
        "sybil_dials_total": float(len(dials)),
        "sybil_dials_seen_per_s": peak_rate(seen),
        "sybil_connect_s": connect_s,
        "baseline_connect_s": baseline_s,
        "sybil_hints_max": most("hints"),
        "sybil_targets_max": most("targets"),
        "sybil_mdns_names_max": most("mdns_names"),
        "sybil_lookups_max": most("mdns_lookups"),
        "sybil_zeroconf_cache_max": most("zeroconf_cache_records"),
        "sybil_rss_growth_mb": max(e["rss_mb"] for e in during) - rss_before,
        "sybil_fds_max": most("fds"),
        "sybil_victim_cpu_pct": cpu_pct(during),
    }


def run(quick: bool = False) -> dict[str, float]:
    """`bench hostile`'s Sybil figures: 5,000 fake services for 20 s (1,000 for 6 s with --quick)."""
    services, seconds = (1_000, 6.0) if quick else (5_000, 20.0)
    with NetnsLan(3, subnet="10.92.0") as lan:
        return numbers(measure(lan, services=services, seconds=seconds))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_sybil")
    sub = parser.add_subparsers(dest="cmd", required=True)
    attacker = sub.add_parser("attacker")
    attacker.add_argument("--services", type=int, default=5000)
    attacker.add_argument("--seconds", type=float, default=15.0)
    attacker.add_argument("--port", type=int, default=7412)
    attacker.add_argument("--ips", required=True)
    args = parser.parse_args()
    dials = asyncio.run(async_attacker(args.services, args.seconds, args.port, args.ips.split(",")))
    print(json.dumps(dials), flush=True)


if __name__ == "__main__":
    main()



