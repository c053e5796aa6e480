"""`bench relay`, voice part: mouth-to-ear over a TURN-relayed session between two homes, and its same-run floor.

The internet in namespaces (tests/integration/wan.py; root, nftables, coturn): home A behind a
cone NAT, home B behind a symmetric one (hole punching fails), coturn on the public relay host.
Both ends are `bench.voice_peer` (the real voice stack: `VoiceEngine`, `VoiceTransport` on a
10 ms clock, the jitter buffer, Opus, over an aiortc `voice` data channel). Neither home can
accept a connection, so both dial a splice on the relay host (`bench.relay_raw splice`) for
the plain SDP; ICE gets what a node's first attempt gets from the relay's TURN credentials
(`IcePlan`: coturn as STUN, then TURN over UDP), and the media goes through coturn.

- `turn_voice_m2e_p50_ms` / `p95`: mouth to ear, the definition of `bench voice` (the tick a
  frame enters the speaker's core to the tick the listener's core plays it, + the Opus
  look-ahead), over all TURN calls' frames played from their own packet;
- `turn_voice_relayed_calls` of `turn_voice_calls`: calls whose nominated pair, at both ends,
  has a relayed candidate; `turn_voice_lost` / `concealed` / `late` / `underruns` /
  `concealed_pct` / `frames_played`: the listener's jitter-buffer counts, summed over the calls;
  `turn_voice_buffer_shifts_per_call`: stretches + underruns + drops per call, as bench voice's
  `buffer_shifts_per_call_clean` (each plays the rest one frame later: what sets the p95 here);
- `turn_tcp_voice_*`: the same over TURN on TCP, in a second such topology with UDP blocked at
  both routers (ICE gets TURN over TCP alone, as a node whose UDP probe went unanswered);
- the floor, same run, same code: the same calls between two hosts on one switch
  (`tests.integration.netns.NetnsLan`, host candidates only, no TURN): `direct_voice_m2e_p50_ms`
  / `p95`, the same counts, `direct_voice_relayed_calls` (0); `turn_voice_m2e_over_direct_p50_ms`
  / `p95` (and `turn_tcp_voice_...`) the differences.

The three topologies stand at once and the calls take turns (TURN, TURN/TCP, direct), so that
load on the machine falls on all alike. No loss or jitter is injected: what is measured is the
path. Full: 3 clean calls per path over 12.8 s of speech (bench voice's text); `--quick`: 1 per
path over 4.3 s.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.voice import TEXT_FULL, TEXT_QUICK, CallResult, from_record
from bench.voice_calls import PeerCalls
from app.voice.measure import espeak_speech
from p2p.ice_plan import IcePlan, with_stun
from p2p.relay.turn import make_credentials, turn_urls
from p2p.routes import IceServer
from tests.integration.netns import NetnsLan
from tests.integration.wan import RELAY_IP, TURN_PORT, Wan

SPLICE_PORT = 7501
COUNTS = ("lost", "concealed", "late", "underruns", "played")


def node_ice(wan: Wan, udp_ok: bool = True) -> list[dict[str, str]]:
    """The ICE servers a node's first attempt gets from this relay's TURN credentials, as voice_peer's JSON.

    With `udp_ok` False (the node's UDP probe of the TURN server got no answer), that is TURN over TCP alone.
    """
    creds = make_credentials(wan.turn_secret.encode(), turn_urls(f"turn:{RELAY_IP}:{TURN_PORT}"), time.time(), 3600)
    plan = IcePlan(with_stun([IceServer(url, creds.username, creds.password) for url in creds.urls]))
    plan.udp_ok = udp_ok
    return [{k: v for k, v in dataclasses.asdict(s).items() if v is not None} for s in plan.attempts()[0]]


def start_splice(wan: Wan, pairs: int) -> subprocess.Popen[str]:
    """`bench.relay_raw splice` on the relay host for `pairs` calls, once it listens."""
    splice = wan.relay_host.python("-m", "bench.relay_raw", "splice", "--host", RELAY_IP, "--port", str(SPLICE_PORT),
                                   "--pairs", str(pairs), stdout=subprocess.PIPE, text=True)
    assert splice.stdout is not None
    if not splice.stdout.readline():
        raise RuntimeError("the signaling splice on the relay host did not start")
    return splice


def relayed(record: dict[str, Any]) -> bool:
    """True when the call's nominated pair has a relayed candidate at every end that could name it (at least one).

    An end reads its pair as the call ends; over TURN/TCP it sometimes finds the transport already gone and
    reports none ([]), which says nothing either way (seen once in CI: the other end's pair was relay/relay)."""
    pairs = [pair for pair in (record.get("pair", []), record["rx"].get("pair", [])) if pair]
    return bool(pairs) and all("relay" in pair for pair in pairs)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _figures(prefix: str, records: list[dict[str, Any]], results: list[CallResult]) -> dict[str, float]:
    latencies = [x for r in results for x in r.latencies_ms]
    out = {
        f"{prefix}_m2e_p50_ms": _pct(latencies, 50),
        f"{prefix}_m2e_p95_ms": _pct(latencies, 95),
        f"{prefix}_calls": float(len(records)),
        f"{prefix}_relayed_calls": float(sum(relayed(r) for r in records)),
    }
    for name in COUNTS:
        key = "frames_played" if name == "played" else name
        out[f"{prefix}_{key}"] = float(sum(getattr(r.stats, name) for r in results))
    shifts = sum(r.stats.stretched + r.stats.underruns + r.stats.dropped for r in results)
    out[f"{prefix}_buffer_shifts_per_call"] = shifts / len(results) if results else float("nan")
    talking = sum(r.stats.played + r.stats.concealed for r in results)
    out[f"{prefix}_concealed_pct"] = 100.0 * out[f"{prefix}_concealed"] / talking if talking else float("nan")
    return out


def run(quick: bool = False) -> dict[str, float]:
    if shutil.which("espeak-ng") is None:
        raise SystemExit("bench relay's voice part needs espeak-ng (apt-get install espeak-ng sox)")
    speech = espeak_speech(TEXT_QUICK if quick else TEXT_FULL)
    repeats = 1 if quick else 3
    workdir = Path(tempfile.mkdtemp(prefix="hubbub-bench-relay-voice-"))
    prefixes = ("turn_voice", "turn_tcp_voice", "direct_voice")
    records: dict[str, list[dict[str, Any]]] = {p: [] for p in prefixes}
    results: dict[str, list[CallResult]] = {p: [] for p in prefixes}
    with (Wan(workdir / "wan", symmetric_b=True) as wan, Wan(workdir / "wan-tcp", symmetric_b=True, block_udp=True)
          as wan_tcp, NetnsLan(2, subnet="10.80.0") as lan):
        splice = f"{RELAY_IP}:{SPLICE_PORT}"
        for w in (wan, wan_tcp):
            w.start_coturn()
            start_splice(w, repeats)
        parties = {
            "turn_voice": PeerCalls(wan.home_a, wan.home_b, workdir / "turn", ice=node_ice(wan), splice=splice),
            "turn_tcp_voice": PeerCalls(wan_tcp.home_a, wan_tcp.home_b, workdir / "turn-tcp",
                                        ice=node_ice(wan_tcp, udp_ok=False), splice=splice),
            "direct_voice": PeerCalls(lan.hosts[0], lan.hosts[1], workdir / "direct"),
        }
        with parties["turn_voice"], parties["turn_tcp_voice"], parties["direct_voice"]:
            for i in range(repeats):
                spec = {"loss": 0.0, "jitter_ms": 0.0, "seed": i}
                for prefix in prefixes:
                    record = parties[prefix].run(speech, [spec])[0]
                    records[prefix].append(record)
                    result = from_record(record)  # reads the PCM before the next call
                    results[prefix].append(result)
                    st = result.stats
                    print(f"{prefix} call {i + 1}: pair {record.get('pair')} (speaker) {record['rx'].get('pair')} "
                          f"(listener); m2e p50 {_pct(result.latencies_ms, 50):.1f} ms p95 "
                          f"{_pct(result.latencies_ms, 95):.1f} ms; shifts {st.stretched + st.underruns + st.dropped}",
                          file=sys.stderr)
    if not all(relayed(r) for p in prefixes[:2] for r in records[p]) or any(map(relayed, records["direct_voice"])):
        raise RuntimeError("a TURN call's nominated pair was not relayed, or a direct call's was; see the pairs above")
    shutil.rmtree(workdir, ignore_errors=True)  # kept, with the listeners' logs, only when something failed
    out: dict[str, float] = {}
    for prefix in prefixes:
        out.update(_figures(prefix, records[prefix], results[prefix]))
    for prefix in prefixes[:2]:
        for q in ("p50", "p95"):
            out[f"{prefix}_m2e_over_direct_{q}_ms"] = out[f"{prefix}_m2e_{q}_ms"] - out[f"direct_voice_m2e_{q}_ms"]
    return out
