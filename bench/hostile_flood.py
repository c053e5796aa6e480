"""Scenario: a flood of signed offers from throwaway keys against one node, an honest member meanwhile.

    python -m bench.hostile_flood client --target HOST:PORT --offers N --seconds S [--bind IP,IP,...]

The client (the attacker) paces N offers over S seconds: each from a fresh Ed25519 key, over a new
TCP connection (from its source addresses in turn, so per-source limits alone do not stop it), speaking the protocol as far as it is let: it reads the HELLO, sends a KNOCK that
proves no room and, without waiting, a validly signed OFFER (one real SDP, re-signed per key).

`measure()` runs it between namespaces: host 0 is the victim (`p2p.probe`), host 1 the flooder,
host 2 the honest member. Before the flood the member connects and posts stamped messages for a
baseline, then leaves; during the flood it connects again (`flood_honest_connect_s`) and posts
again (`flood_honest_msg_ms`, p99). The victim reports its RSS and fds four times a second:
`flood_rss_growth_mb` is the peak during the flood over the baseline, `flood_rss_after_mb` what
is left a few seconds after it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from aiortc import RTCPeerConnection
from nacl.signing import SigningKey

from bench.hostile_common import PORT, ROOM, ROOM_SECRET, cpu_pct, latencies_ms, numbers, percentile, stats_between
from p2p.errors import P2PError
from p2p.frames import FrameType, encode_frame, stream_prefix
from p2p.signal_message import sign_signal
from p2p.signaling import async_read_frame
from tests.integration.netns import NetnsLan, Probe


async def _sdp() -> str:
    pc = RTCPeerConnection()
    pc.createDataChannel("x", negotiated=True, id=0)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def _one_offer(host: str, port: int, source: str | None, sdp: str, outcome: dict[str, int]) -> None:
    key = SigningKey.generate()
    try:
        local = (source, 0) if source else None
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, local_addr=local), 3)
    except (OSError, asyncio.TimeoutError):
        outcome["unreachable"] += 1
        return
    try:
        hello = await async_read_frame(reader, 3)
        victim = hello.fields[0]
        knock = encode_frame(FrameType.KNOCK, bytes(key.verify_key), bytes(32 * 8))
        offer = sign_signal(key, FrameType.OFFER, victim, b"f" * 16, sdp)
        writer.write(stream_prefix(knock) + knock + stream_prefix(offer) + offer)
        await writer.drain()
        reply = await async_read_frame(reader, 3)
        if reply.type is FrameType.ADMIT:
            reply = await async_read_frame(reader, 3)
            outcome["admitted"] += 1
        outcome["answered" if reply.type is FrameType.ANSWER else "rejected"] += 1
    except (P2PError, OSError):
        outcome["closed"] += 1
    finally:
        writer.close()


async def async_client(host: str, port: int, offers: int, seconds: float,
                       sources: list[str] | None = None) -> dict[str, int]:
    """Send `offers` offers paced over `seconds` (from `sources` in turn); count what became of them."""
    sdp = await _sdp()
    outcome = {k: 0 for k in ("sent", "unreachable", "closed", "rejected", "admitted", "answered")}
    start = time.monotonic()
    pending: set[asyncio.Task[None]] = set()
    for i in range(offers):
        delay = start + i * seconds / offers - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        while len(pending) >= 256:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        source = sources[i % len(sources)] if sources else None
        task = asyncio.ensure_future(_one_offer(host, port, source, sdp, outcome))
        pending.add(task)
        task.add_done_callback(pending.discard)
        outcome["sent"] += 1
    if pending:
        await asyncio.wait(pending)
    return outcome


def measure(lan: NetnsLan, *, offers: int, seconds: float, sources: int = 8, samples: int = 40) -> dict[str, float]:
    """The flood figures, with the same run's honest-latency baseline (see the module docstring)."""
    victim_host, flood_host, honest_host = lan.hosts[0], lan.hosts[1], lan.hosts[2]
    prefix = flood_host.ip.rsplit(".", 1)[0]
    addresses = [f"{prefix}.{200 + i}" for i in range(sources)]
    for address in addresses:
        flood_host.run(["ip", "addr", "add", f"{address}/24", "dev", "eth0"])
    target = f"{victim_host.ip}:{PORT}"
    victim = Probe(victim_host, "--no-mdns", "--port", str(PORT), "--secret", ROOM_SECRET, "--report", "0.25")
    vkey = victim.started()["key"]
    member_key = SigningKey.generate().encode().hex()

    def member() -> tuple[Probe, str, float]:
        probe = Probe(honest_host, "--no-mdns", "--key", member_key, "--secret", ROOM_SECRET)
        key = probe.started()["key"]
        began = time.monotonic()
        probe.command(f"connect {victim_host.ip} {PORT}")
        probe.wait(lambda e: e["event"] == "RoomMatched" and e["peer"] == vkey, 15, "the member matched the room")
        return probe, key, time.monotonic() - began

    def stamps(probe: Probe) -> tuple[float, float]:
        began = time.monotonic()
        for _ in range(samples):
            probe.command(f"stamp {vkey} sync {ROOM}")
            time.sleep(0.025)
        time.sleep(0.5)
        return began, time.monotonic()

    first, mkey, _ = member()
    time.sleep(1.0)
    w0, w1 = stamps(first)
    baseline = latencies_ms(victim, mkey, w0, w1)
    first.command("quit")
    first.proc.wait(10)
    time.sleep(1.0)
    rss_before = statistics.median(e["rss_mb"] for e in stats_between(victim, w1, time.monotonic()))

    flood_began = time.monotonic()
    flooder = flood_host.python("-m", "bench.hostile_flood", "client", "--target", target, "--offers",
                                str(offers), "--seconds", str(seconds), "--bind", ",".join(addresses),
                                stdout=-1, stderr=-3, text=True)
    time.sleep(min(2.0, seconds / 4))
    second, _, connect_s = member()
    f0, f1 = stamps(second)
    during = latencies_ms(victim, mkey, f0, f1)
    out_text, _ = flooder.communicate(timeout=seconds + 120)
    flood_ended = time.monotonic()
    outcome: dict[str, Any] = json.loads(out_text.strip().splitlines()[-1])
    time.sleep(4.0)
    after = stats_between(victim, time.monotonic() - 1.0, time.monotonic())
    flood_stats = stats_between(victim, flood_began, flood_ended + 0.5)
    last = flood_stats[-1]
    second.command("quit")
    victim.command("quit")
    return {
        "flood_offers": float(outcome["sent"]),
        "flood_offers_admitted": float(outcome["admitted"]),
        "flood_sources": float(sources),
        "flood_seconds": flood_ended - flood_began,
        "flood_rss_before_mb": rss_before,
        "flood_rss_growth_mb": max(e["rss_mb"] for e in flood_stats) - rss_before,
        "flood_rss_after_mb": statistics.median(e["rss_mb"] for e in after) - rss_before,
        "flood_fds_max": float(max(e["fds"] for e in flood_stats)),
        "flood_victim_cpu_pct": cpu_pct(flood_stats),
        "flood_fd_limit": float(last["fd_limit"]),
        "flood_half_open_max": float(max(e["half_open_strangers"] + e["half_open_members"] for e in flood_stats)),
        "flood_refused_conversations": float(last["refused_conversations"]),
        "flood_refused_sessions": float(last["refused_sessions"]),
        "flood_honest_connect_s": connect_s,
        "flood_honest_msg_ms": percentile(during, 0.99),
        "flood_honest_msg_p50_ms": percentile(during, 0.5),
        "flood_honest_msgs": float(len(during)),
        "baseline_honest_msg_ms": percentile(baseline, 0.99),
        "baseline_honest_msg_p50_ms": percentile(baseline, 0.5),
    }


def run(quick: bool = False) -> dict[str, float]:
    """`bench hostile`'s flood figures: 10,000 offers over 60 s (1,000 over 5 s with --quick)."""
    offers, seconds = (1_000, 5.0) if quick else (10_000, 60.0)
    with NetnsLan(3, subnet="10.91.0") as lan:
        return numbers(measure(lan, offers=offers, seconds=seconds))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_flood")
    sub = parser.add_subparsers(dest="cmd", required=True)
    client = sub.add_parser("client")
    client.add_argument("--target", required=True)
    client.add_argument("--offers", type=int, default=5000)
    client.add_argument("--seconds", type=float, default=10.0)
    client.add_argument("--bind", default="", help="source addresses to use in turn, comma separated")
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    sources = [a for a in args.bind.split(",") if a]
    print(json.dumps(asyncio.run(async_client(host, int(port), args.offers, args.seconds, sources))), flush=True)


if __name__ == "__main__":
    main()
