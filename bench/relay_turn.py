"""`bench relay`, p2p level across the internet in namespaces (tests/integration/wan.py; needs root, coturn).

Home A behind a cone NAT, home B behind a symmetric one, a relay and coturn on the public side:

- `turn_connect_p50_s` / `turn_connect_p95_s`: fresh `p2p.relay.probe` nodes in both homes under a
  fresh token, production timings, from the later one's relay connection (it subscribes right then) to A's
  authenticated session (route "turn"); 20 tries (`--quick`: 2). `turn_connect_ok` of them.
- `turn_latency_p50_ms` / `p99`: one-way delay of 8-byte stamps A -> B over that session, 10 ms
  apart (200; `--quick`: 20), Hubbub's framing and session included;
- `raw_turn_latency_p50_ms`: the same stamps at the same pace over a bare aiortc data channel
  through the same coturn (bench.relay_raw): the floor; `turn_latency_over_raw_ms` the difference;
- `turn_tcp_connect_p50_s`: as `turn_connect`, with UDP blocked at both routers (TURN over TCP
  from the start: the node's UDP probe got no answer); 5 tries (`--quick`: 1).
"""

from __future__ import annotations

import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from p2p.relay.turn import make_credentials
from tests.integration.netns import Probe
from tests.integration.wan import RELAY_IP, TURN_PORT, Wan

ROOM, SECRET = "e6" * 16, "f7" * 16
SPLICE_PORT = 7500


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _pair(wan: Wan, url: str, log: Path) -> tuple[Probe, Probe, str, str]:
    token = f"{os.urandom(16).hex()}:{os.urandom(32).hex()}"
    common = ["--relay", url, "--token", token, "--no-mdns", "--secret", f"{ROOM}:{SECRET}:room"]
    a = Probe(wan.home_a, *common, module="p2p.relay.probe", stderr=log.open("a"), timings=False)
    b = Probe(wan.home_b, *common, module="p2p.relay.probe", stderr=log.open("a"), timings=False)
    return a, b, a.started(60)["key"], b.started(60)["key"]


def _stop(*probes: Probe) -> None:
    for probe in probes:
        if probe.proc.poll() is None:
            probe.command("quit")
    for probe in probes:
        try:
            probe.proc.wait(10)
        except subprocess.TimeoutExpired:
            probe.proc.kill()


def _connect_once(wan: Wan, url: str, log: Path) -> tuple[float | None, tuple[Probe, Probe, str, str]]:
    pair = a, b, key_a, key_b = _pair(wan, url, log)
    ready = [p.wait(lambda e: e["event"] == "relay_connected", 30, "relay connection") for p in (a, b)]
    session = a.stream.find(lambda e: e["event"] == "session" and e["peer"] == key_b, 30)
    if session is None or session["route"] != "turn":
        return None, pair
    return session["t"] - max(e["t"] for e in ready), pair


def _stamps(a: Probe, b: Probe, key_a: str, key_b: str, count: int) -> list[float]:
    time.sleep(0.5)  # as the raw baseline: the session has settled
    mark = len(b.events)
    for _ in range(count):
        a.command(f"stamp {key_b} sync {ROOM}")
        time.sleep(0.01)
    deadline = time.monotonic() + 30
    while b.count(lambda e: e["event"] == "Received" and e["peer"] == key_a) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    out = []
    for e in b.events[mark:]:
        if e["event"] == "Received" and e["peer"] == key_a:
            out.append(e["t"] - struct.unpack(">d", bytes.fromhex(e["payload"]))[0])
    return out


def _raw(wan: Wan, pings: int) -> dict[str, Any]:
    creds = make_credentials(wan.turn_secret.encode(), (f"turn:{RELAY_IP}:{TURN_PORT}?transport=udp",),
                             time.time(), 600)
    splice = wan.relay_host.python("-m", "bench.relay_raw", "splice", "--host", RELAY_IP, "--port",
                                   str(SPLICE_PORT), stdout=subprocess.PIPE, text=True)
    assert splice.stdout is not None
    splice.stdout.readline()
    auth = ["--turn", creds.urls[0], "--user", creds.username, "--password", creds.password, "--pings", str(pings)]
    target = f"{RELAY_IP}:{SPLICE_PORT}"
    answer = wan.home_b.python("-m", "bench.relay_raw", "answer", target, *auth, stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    offer = wan.home_a.run([sys.executable, "-m", "bench.relay_raw", "offer", target, *auth], timeout=120, check=False)
    out, _ = answer.communicate(timeout=60)
    if offer.returncode != 0 or not out.strip():
        raise RuntimeError(f"the raw aiortc baseline failed: {offer.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run(quick: bool = False) -> dict[str, float]:
    tries, pings = (2, 20) if quick else (20, 200)
    out: dict[str, float] = {}
    workdir = Path(tempfile.mkdtemp(prefix="hubbub-bench-relay-"))
    with Wan(workdir, symmetric_b=True) as wan:
        url = wan.start_relay()
        log = workdir / "probes.log"
        times: list[float] = []
        last: tuple[Probe, Probe, str, str] | None = None
        for attempt in range(tries):
            took, pair = _connect_once(wan, url, log)
            if took is not None:
                times.append(took)
            if attempt < tries - 1 or took is None:
                _stop(pair[0], pair[1])
            else:
                last = pair
        if not times:
            raise RuntimeError(f"no session over TURN in {tries} tries; see {log}")
        out["turn_connect_p50_s"] = statistics.median(times)
        out["turn_connect_p95_s"] = _percentile(times, 0.95)
        out["turn_connect_ok"] = float(len(times))
        out["turn_connect_tries"] = float(tries)
        if last is not None:
            delays = _stamps(*last, pings)
            _stop(last[0], last[1])
            out["turn_latency_p50_ms"] = statistics.median(delays) * 1000
            out["turn_latency_p99_ms"] = _percentile(delays, 0.99) * 1000
            out["turn_latency_received"] = float(len(delays))
        raw = _raw(wan, pings)
        out["raw_turn_latency_p50_ms"] = float(raw["delay_p50_ms"])
        out["raw_turn_relayed"] = float(raw["relayed"])
        if "turn_latency_p50_ms" in out:
            out["turn_latency_over_raw_ms"] = out["turn_latency_p50_ms"] - out["raw_turn_latency_p50_ms"]
    with Wan(workdir / "udp-blocked", symmetric_b=True, block_udp=True) as wan:
        url = wan.start_relay()
        log = workdir / "probes-tcp.log"
        tcp_times: list[float] = []
        for _ in range(1 if quick else 5):
            took, pair = _connect_once(wan, url, log)
            _stop(pair[0], pair[1])
            if took is not None:
                tcp_times.append(took)
        if not tcp_times:
            raise RuntimeError(f"no session over TURN/TCP with UDP blocked; see {log}")
        out["turn_tcp_connect_p50_s"] = statistics.median(tcp_times)
        out["turn_tcp_connect_ok"] = float(len(tcp_times))
    return out
