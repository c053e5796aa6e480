"""`python -m bench relay`: what the relay costs and how fast nodes meet through it, one module per part.

Each part is a module `bench.relay_<name>` with `run(quick) -> dict`, reporting with a same-run floor:

- `server` (loopback, no root): `relay_rss_mb` with 1000 mailboxes and 200 clients (floor
  `relay_idle_rss_mb`), `relay_cpu_ms_per_forward` (idle CPU subtracted);
- `turn` (the internet in namespaces, tests/integration/wan.py: root and coturn):
  `turn_connect_p95_s` of 20 fresh pairs across a symmetric NAT, `turn_latency_p50_ms` over that
  session and its floor `raw_turn_latency_p50_ms` (a bare aiortc data channel, same coturn, same
  stamps and pace);
- `voice` (the same namespaces): voice mouth-to-ear over TURN (UDP, and TCP with UDP blocked)
  between the two homes, `turn_voice_m2e_p50_ms` / `p95`, with the floor `direct_voice_m2e_p50_ms`
  (the same calls between two hosts on one switch, same run);
- `app` (relay-app's, bench/relay_app.py): joins, messages and catch-up with real `hubbub` nodes.

Adding a part is adding a module and its name to `PARTS`.
"""

from __future__ import annotations

import importlib

PARTS = ["server", "turn", "voice", "app"]


def run(quick: bool = False) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in PARTS:
        out.update(importlib.import_module(f"bench.relay_{name}").run(quick))
    return out
