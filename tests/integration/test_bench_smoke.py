"""Every benchmark suite runs in `--quick` mode and reports its metrics: CI's smoke check of `python -m bench`.

The figures are not checked against their targets here (benchmarks are not tests,
and these machines are noisy); that they run, end, and report every metric as a
finite number is.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, STRICT, is_root, require
from tests.integration.installed_app import deb_cache

# Per suite: whether it needs root (network namespaces), and metrics its quick run must report.
SUITES = {
    "cli": (False, {"cli_command_s", "cli_via_node_s", "node_ready_s", "node_network_s", "floor_python_s",
                    "floor_sqlite_s"}),
    "crdt": (False, {"append_ratio_10k_vs_1k", "open_10k_s", "sync_10k_s", "bytes_per_message_disk",
                     "verify_entries_per_s", "ingest_entries_per_s", "sync_over_floor", "open_over_floor",
                     "race_resolve_ms", "post_flood_ratio"}),
    "hostile": (True, {"flood_rss_growth_mb", "flood_honest_msg_ms", "baseline_honest_msg_ms", "sybil_dials_per_s",
                       "spoof_reconnect_s", "baseline_reconnect_s", "lossy_handshake_s", "lossy_completed",
                       "honest_p99_ms_under_hostile_peer", "honest_p50_ms_quiet", "hostile_banned_s"}),
    "files": (True, {"lan_file_mb_s", "raw_tcp_mb_s", "secure_copy_mb_s", "datachannel_file_mb_s",
                     "multi_source_speedup", "rss_growth_mb", "first_thumbnail_ms"}),
    "lan": (True, {"discovery_s", "connect_s", "msg_latency_p50_ms", "msg_latency_p99_ms", "msg_durable_p50_ms",
                   "catchup_100k_s", "raw_transfer_100k_s", "catchup_ratio", "burst_1000_s",
                   "raw_latency_p50_ms", "msg_latency_over_raw_ms"}),
    "package": (True, {"deb_size_mb", "deb_build_s", "installed_mb", "installed_first_start_s",
                       "installed_cold_start_s", "venv_cold_start_s", "second_start_handover_s"}),
    "relay": (True, {"turn_connect_p95_s", "raw_turn_latency_p50_ms", "turn_latency_p50_ms", "relay_rss_mb",
                     "relay_idle_rss_mb", "relay_cpu_ms_per_forward", "relay_join_s", "turn_msg_latency_p50_ms",
                     "mailbox_catchup_1000_s", "turn_voice_m2e_p50_ms", "turn_voice_m2e_p95_ms",
                     "direct_voice_m2e_p50_ms", "turn_voice_relayed_calls"}),
    "search": (False, {"search_p50_ms", "search_p99_ms", "index_100k_s", "index_bytes_per_message",
                       "post_cost_with_index_ratio", "jump_to_result_ms", "search_floor_p50_ms", "jump_floor_ms"}),
    "ui": (False, {"cold_start_s", "idle_rss_mb", "open_100k_room_s", "max_ui_stall_ms", "render_us_per_message",
                   "layout_us_per_message", "render_worst_16k_ms"}),
    "voice": (True, {"mouth_to_ear_p50_ms", "mouth_to_ear_p95_ms", "mouth_to_ear_p95_ms_loss5_jitter10",
                     "pesq_wb_clean", "pesq_wb_loss5", "cpu_pct_mesh6"}),
    "fuzz": (False, {"fuzz_execs", "fuzz_crashes", "fuzz_execs_crdt_entry_decode_entry"}),
}


@pytest.mark.timeout(420)
@pytest.mark.parametrize("suite", sorted(SUITES))
def test_quick_run_reports_every_metric(suite: str, tmp_path: Path) -> None:
    needs_root, expected = SUITES[suite]
    if needs_root:
        require(is_root(), "the suite builds network namespaces, which needs root")
    if suite == "package":  # like tests/integration/test_deb.py: a .deb is built only under HUBBUB_STRICT=1
        require(STRICT or deb_cache().cached() is not None, "no .deb of these sources is cached")
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "bench", suite, "--quick", "--json", str(out)],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, f"bench {suite} failed:\n{proc.stderr[-3000:]}"
    metrics = json.loads(out.read_text())
    assert expected <= set(metrics), f"missing: {sorted(expected - set(metrics))}"
    for name, value in metrics.items():
        assert isinstance(value, (int, float)) and math.isfinite(value), f"{name} = {value!r}"
    assert all(name in proc.stdout for name in expected), "the printed table lacks metrics the JSON has"
