"""`python -m bench files`: files between Hubbub nodes in network namespaces (issue 14's table).

Three nodes (A, B, C) run `bench.files_node` in three namespaces on one bridge, sessions dialed by address (no
mDNS wait). A posts a file of 256 MiB (16 MiB with `--quick`); C fetches it from A. Then, for each round:

- `lan_file_mb_s`: B fetches it from A alone, until every chunk is checked and on B's disk;
  `lan_file_saved_mb_s`: the same and the verified file written out (`download --out`);
- `multi_source_mb_s`: B fetches it from A and C together; `multi_source_speedup` = that / `lan_file_mb_s`;
- `raw_tcp_mb_s`: the same number of bytes over a bare TCP socket between A's and B's namespaces;
- `secure_copy_mb_s`: the same file read from disk, sealed with libsodium secretstream over TCP, written to disk
  on B (`bench.files_baseline`); `lan_file_over_secure_copy` (the median of each round's ratio: the load moves
  both within a round) is the ratio we hold ourselves to (>= 0.6);
- `rss_growth_mb`: B's resident memory during its fetch, peak minus start (<= 50);
- `datachannel_file_mb_s`: a 32 MiB file (4 MiB quick) from A forced over the aiortc data channel (the fallback);
- `first_thumbnail_ms`: a picture message posted on A until B has decoded and painted its inline thumbnail
  (QImage and QPainter, offscreen), median of 5.
Figures are medians over the rounds (5, or 1 with `--quick`), baselines measured in the same rounds, between the
same namespaces. `load_before`/`load_after` are the 1-minute load averages (the machine is shared). Needs root.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lan import Runner as LanRunner
from tests.integration.netns import Host, JsonLineEvents, NetnsLan

MIB = 1 << 20
PORT = 7700


def _profiles(tmp: Path) -> tuple[list[Path], bytes]:
    """A owns a room with B and C as members; B and C hold the room (imported from A's signed log)."""
    from app.node import Node
    from app.profile import open_profile

    paths = [tmp / n for n in ("a", "b", "c")]
    keys = []
    for p, name in zip(paths, ("A", "B", "C")):
        node = Node(open_profile(p, display_name=name))
        keys.append(node.profile.public_key)
        node.close()
    owner = Node(open_profile(paths[0]))
    room = owner.create_room("bench files")
    for key, name in zip(keys[1:], ("B", "C")):
        room.add_member(key, name=name)
    log = tmp / "room.log"
    owner.export(room, "log", log)
    room_id = room.id
    owner.close()
    for p in paths[1:]:
        node = Node(open_profile(p))
        node.import_log(log)
        node.close()
    return paths, room_id


class Runner(LanRunner):
    """One `bench.files_node` (the same JSON-line conversation as `bench lan`'s nodes)."""

    def __init__(self, host: Host, profile: Path, room: bytes, connect: list[Host], log: Path) -> None:
        self.log = log.open("w")
        argv = ["-m", "bench.files_node", "--profile", str(profile), "--room", room.hex(), "--host", host.ip,
                "--port", str(PORT)]
        for other in connect:
            argv += ["--connect", f"{other.ip}:{PORT}"]
        self.proc = host.python(*argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                env={"QT_QPA_PLATFORM": "offscreen"})
        self.stream = JsonLineEvents(self.proc)


def _baseline(server: Host, client: Host, mode: str, path: Path, out: Path) -> float:
    """Seconds for the raw or secure floor between two namespaces."""
    serve = server.python("-m", "bench.files_baseline", "serve", "--host", server.ip, "--port", "7801", "--mode", mode,
                          "--out", str(out), stdout=subprocess.PIPE, text=True)
    assert serve.stdout is not None
    serve.stdout.readline()
    done = client.run([sys.executable, "-m", "bench.files_baseline", "send", f"{server.ip}:7801", "--mode", mode,
                       "--path", str(path)], timeout=600)
    serve.wait(30)
    with_out = out.exists()
    if with_out:
        out.unlink()
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def _picture(path: Path) -> Path:
    from PIL import Image

    im = Image.effect_mandelbrot((1600, 1200), (-2.0, -1.2, 1.0, 1.2), 64).convert("RGB")
    im.save(path, "JPEG", quality=90)
    return path


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 1 if quick else int(os.environ.get("HUBBUB_BENCH_ROUNDS", "5"))
    size = (16 if quick else 256) * MIB
    dc_size = (4 if quick else 32) * MIB
    load_before = os.getloadavg()[0]
    results: dict[str, list[float]] = {k: [] for k in ("lan", "saved", "multi", "raw", "secure", "rss", "thumb",
                                                            "cpu_a", "cpu_b")}
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-files-") as tmpdir:
        tmp = Path(tmpdir)
        paths, room = _profiles(tmp)
        payload, small = tmp / "payload.bin", tmp / "small.bin"
        payload.write_bytes(os.urandom(size))
        small.write_bytes(os.urandom(dc_size))
        with NetnsLan(3, subnet="10.83.0") as lan:
            ha, hb, hc = lan.hosts
            a = Runner(ha, paths[0], room, [], tmp / "a.log")
            a.wait("ready")
            key_a = a.wait("ready")["key"]
            c = Runner(hc, paths[2], room, [ha], tmp / "c.log")
            c.wait("ready")
            b = Runner(hb, paths[1], room, [ha, hc], tmp / "b.log")
            b.wait("ready")
            att = a.ask({"cmd": "send", "path": str(payload)}, "sent", 300)["att"]
            small_att = a.ask({"cmd": "send", "path": str(small)}, "sent")["att"]
            time.sleep(0.5)  # the messages reach B and C
            c.ask({"cmd": "download", "att": att, "only": [key_a]}, "downloaded")
            for _ in range(rounds):
                cpu_a = a.ask({"cmd": "cpu"}, "cpu")["cpu_s"]
                got = b.ask({"cmd": "download", "att": att, "only": [key_a]}, "downloaded")
                results["lan"].append(size / MIB / got["seconds"])
                results["cpu_a"].append((a.ask({"cmd": "cpu"}, "cpu")["cpu_s"] - cpu_a) / (size / MIB) * 1000)
                results["cpu_b"].append(got["cpu_s"] / (size / MIB) * 1000)
                results["rss"].append(got["rss_growth_mb"])
                b.ask({"cmd": "forget", "att": att}, "forgot")
                got = b.ask({"cmd": "download", "att": att, "only": [key_a], "out": str(tmp / "b-out.bin")},
                            "downloaded")
                results["saved"].append(size / MIB / got["seconds"])
                (tmp / "b-out.bin").unlink()
                b.ask({"cmd": "forget", "att": att}, "forgot")
                got = b.ask({"cmd": "download", "att": att}, "downloaded")
                results["multi"].append(size / MIB / got["seconds"])
                b.ask({"cmd": "forget", "att": att}, "forgot")
                results["raw"].append(size / MIB / _baseline(hb, ha, "raw", payload, tmp / "raw.out"))
                results["secure"].append(size / MIB / _baseline(hb, ha, "secure", payload, tmp / "secure.out"))
            got = b.ask({"cmd": "download", "att": small_att, "only": [key_a], "datachannel": True}, "downloaded")
            datachannel = dc_size / MIB / got["seconds"]
            picture = _picture(tmp / "picture.jpg")
            for _ in range(1 if quick else 5):
                mark = len(b.events)
                sent = a.ask({"cmd": "send", "path": str(picture)}, "sent")
                painted = b.wait("painted", 30, after=mark)
                results["thumb"].append((painted["t"] - sent["t_post"]) * 1000)
            for r in (a, b, c):
                r.stop()
    med = {k: statistics.median(v) for k, v in results.items()}
    return {
        "file_mb": size // MIB,
        "rounds": rounds,
        "lan_file_mb_s": round(med["lan"], 1),
        "lan_file_saved_mb_s": round(med["saved"], 1),
        "raw_tcp_mb_s": round(med["raw"], 1),
        "secure_copy_mb_s": round(med["secure"], 1),
        "lan_file_over_secure_copy": round(statistics.median(x / y for x, y in zip(results["lan"], results["secure"])), 2),
        "multi_source_mb_s": round(med["multi"], 1),
        "multi_source_speedup": round(med["multi"] / med["lan"], 2),
        "datachannel_file_mb_s": round(datachannel, 2),
        "rss_growth_mb": round(max(results["rss"]), 1),
        "first_thumbnail_ms": round(med["thumb"], 1),
        "sender_cpu_ms_per_mib": round(med["cpu_a"], 2),
        "receiver_cpu_ms_per_mib": round(med["cpu_b"], 2),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
