"""`python -m bench hostile`: what a hostile LAN costs a node (issue 10's table), one module per scenario.

Each scenario is a module `bench.hostile_<name>` with `run(quick) -> dict` that builds its own
network namespaces (so this needs root) and reports its figures with a same-run baseline:

- `flood`: 10,000 signed offers from fresh keys over 60 s; `flood_rss_growth_mb`,
  `flood_honest_msg_ms` (p99 of an honest member's messages during the flood; baseline:
  `baseline_honest_msg_ms`, the same member without the flood);
- `sybil`: 5,000 fake mDNS services; `sybil_dials_per_s`, the tables' sizes, `sybil_connect_s`
  (baseline `baseline_connect_s`);
- `spoof`: node-id spoofing and a pulled cable; `spoof_reconnect_s` (baseline
  `baseline_reconnect_s`, the same outage without the attacker);
- `lossy`: session set-up at 25% loss both ways; `lossy_handshake_s`, `lossy_completed` of
  `lossy_tries` (baseline `baseline_handshake_s`, loss-free);
- `frames`: a room-key holder who is no member floods 10,000 bad frames (on loopback);
  `honest_p99_ms_under_hostile_peer` (baseline `honest_p50_ms_quiet`), `hostile_banned_s`.

Adding a scenario is adding a module and its name to `SCENARIOS`.
"""

from __future__ import annotations

import importlib

SCENARIOS = ("flood", "sybil", "spoof", "lossy", "frames")


def run(quick: bool = False) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in SCENARIOS:
        out.update(importlib.import_module(f"bench.hostile_{name}").run(quick))
    return out
