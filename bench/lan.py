"""`python -m bench lan`: two Hubbub nodes in network namespaces on one bridge (issue 3's table).

Node A (already running, full history) and node B (back from offline: it holds the room but none
of its messages) run `bench.lan_node` as subprocesses in two namespaces and find each other by
mDNS only. From their JSON-line reports (same machine clock):

- `discovery_s`: B starting -> B sees A on mDNS;
- `connect_s`: the dialer (smaller node id) discovered the other -> authenticated session;
- `catchup_100k_s`: authenticated -> B stored every entry of the history (100k messages, or
  5k with `--quick`; `history_messages` says which);
- `raw_transfer_100k_s`: the same number of messages of the same mean size over a bare aiortc
  data channel between two other namespaces in the same run (`bench.lan_transport`);
  `catchup_ratio` = catchup / raw;
- `raw_latency_p50_ms`: in that same baseline session, messages of the same size sent every 10 ms:
  the median one-way delay of a bare aiortc data channel; `msg_latency_over_raw_ms` is what
  Hubbub adds to it (signing, encryption, validation and the commit on both ends, A's fsync);
- `msg_latency_p50_ms`, `msg_latency_p99_ms`: A posts one message every 10 ms; the time until
  B's room listener fires, after B stored (committed) it. A fsyncs before it sends; B shows a
  received entry once committed and fsyncs it in a worker thread (app/durability.py), so
  `msg_durable_p50_ms` reports the time until that fsync completed, for honesty;
- `burst_1000_s`: A sends 1000 messages at once (`Room.post_many`, as `hubbub send ROOM -` does);
  until B stored the last one. `burst_1000_separate_s`: the same with 1000 separate posts.
Needs root (network namespaces).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.crdt import _store_room, make_room
from bench.lan_transport import measure_in_netns
from crdt.sync import MemorySource
from tests.integration.netns import Host, JsonLineEvents, NetnsLan

Event = dict[str, Any]


class Runner:
    """One `bench.lan_node` in a namespace; its JSON-line events gathered by a thread."""

    def __init__(self, host: Host, profile: Path, room_id: bytes, expect: int, log: Path, *extra: str) -> None:
        self.log = log.open("w")
        self.proc = host.python("-m", "bench.lan_node", "--profile", str(profile), "--room", room_id.hex(),
                                "--expect", str(expect), *extra, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=self.log, text=True)
        self.stream = JsonLineEvents(self.proc)

    @property
    def events(self) -> list[Event]:
        return self.stream.events

    def wait(self, name: str, timeout: float = 30, after: int = 0) -> Event:
        event = self.stream.find(lambda e: e["event"] == name, timeout, after)
        if event is None:
            raise RuntimeError(f"bench node: no {name!r} within {timeout} s; events: {self.events[-5:]}")
        return event

    def ask(self, command: dict[str, Any], answer: str, timeout: float = 120) -> Event:
        mark = len(self.events)
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self.wait(answer, timeout, after=mark)

    def stop(self) -> None:
        try:
            self.ask({"cmd": "stop"}, "stopped", 20)
            self.proc.wait(10)
        finally:
            self.log.close()


def _profiles(tmp: Path, messages: int) -> tuple[Path, Path, bytes, int, int]:
    """A's profile with the whole history, B's with only the room's setup; (a, b, room id, entries, bytes)."""
    room, source, writers, key = make_room(messages)
    owner = bytes(writers[0].verify_key)
    setup = MemorySource()
    setup.add(source.by_author[owner][:2 + len(writers) - 1])  # genesis, #general, the member adds
    _store_room(tmp / "a", room, source, key, writers[0])
    _store_room(tmp / "b", room, setup, key, writers[1])
    every = [e for chain in source.by_author.values() for e in chain]
    setup_ids = {e.hash for chain in setup.by_author.values() for e in chain}
    missing = sum(len(e.encode()) for e in every if e.hash not in setup_ids)
    return tmp / "a", tmp / "b", room.room_id, len(every), missing


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _latencies(a: Runner, b: Runner, count: int, interval: float) -> tuple[list[float], list[float]]:
    """(post on A -> shown on B, post on A -> on B's disk) per message."""
    posted = a.ask({"cmd": "post", "n": count, "interval": interval}, "posted")["ids"]
    answer = b.ask({"cmd": "arrivals", "ids": list(posted)}, "arrivals")
    arrived, durable = answer["ids"], answer["durable"]
    lost = [i for i in posted if arrived[i] is None or durable[i] is None]
    if lost:
        raise RuntimeError(f"{len(lost)} of {count} messages never reached B's disk")
    return [arrived[i] - posted[i] for i in posted], [durable[i] - posted[i] for i in posted]


def run(quick: bool = False) -> dict[str, float]:
    messages = 5_000 if quick else 100_000
    samples = 50 if quick else 300
    out: dict[str, float] = {"history_messages": float(messages)}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        built = time.perf_counter()
        a_dir, b_dir, room_id, entries, missing_bytes = _profiles(tmp, messages)
        out["build_profiles_s"] = time.perf_counter() - built
        catchup_entries = messages  # the messages B lacks (the setup entries it already holds)
        with NetnsLan(2, subnet="10.80.0") as lan:
            a = Runner(lan.hosts[0], a_dir, room_id, entries, tmp / "a.log")
            a_started = a.wait("started", 60)
            b = Runner(lan.hosts[1], b_dir, room_id, entries, tmp / "b.log")
            try:
                b_starting = b.wait("starting", 60)
                b_started = b.wait("started", 30)
                b_found = b.wait("discovered", 30)
                a_found = a.wait("discovered", 30)
                up = b.wait("connected", 30)
                dialer_found = b_found if b_started["node_id"] < a_started["node_id"] else a_found
                out["discovery_s"] = b_found["t"] - b_starting["t"]
                out["connect_s"] = up["t"] - dialer_found["t"]
                caught = b.wait("caught_up", 900)
                out["catchup_100k_s"] = caught["t"] - up["t"]

                lat, on_disk = _latencies(a, b, samples, 0.01)
                out["msg_latency_p50_ms"] = statistics.median(lat) * 1000
                out["msg_latency_p99_ms"] = _percentile(lat, 0.99) * 1000
                out["msg_durable_p50_ms"] = statistics.median(on_disk) * 1000

                # "At once": one send of 1000 messages (Room.post_many: one commit), then, for
                # comparison, 1000 separate posts (1000 fsync'd commits on A).
                for key, post_key, cmd in (("burst_1000_s", "burst_post_s", "post_many"),
                                           ("burst_1000_separate_s", "burst_separate_post_s", "post")):
                    posted = a.ask({"cmd": cmd, "n": 1000, "interval": 0}, "posted")
                    arrived = b.ask({"cmd": "arrivals", "ids": list(posted["ids"])}, "arrivals")["ids"]
                    if any(t is None for t in arrived.values()):
                        raise RuntimeError("part of the burst never reached B")
                    out[key] = max(arrived.values()) - min(posted["ids"].values())
                    out[post_key] = posted["done"] - min(posted["ids"].values())
            finally:
                for runner in (b, a):
                    try:
                        runner.stop()
                    except Exception:
                        pass
        mean_size = max(1, round(missing_bytes / catchup_entries))
        out["raw_transfer_100k_s"], raw_delay = measure_in_netns(catchup_entries, mean_size, pings=samples)
        assert raw_delay is not None
        out["raw_latency_p50_ms"] = raw_delay
        out["msg_latency_over_raw_ms"] = out["msg_latency_p50_ms"] - raw_delay
        out["catchup_ratio"] = out["catchup_100k_s"] / out["raw_transfer_100k_s"]
        out["entry_bytes_mean"] = float(mean_size)
    return out
