"""A NodeService for `bench files`, driven by JSON lines on stdin, reporting as JSON lines on stdout.

    python -m bench.files_node --profile DIR --room ROOM_HEX --host IP --port N [--connect IP:PORT ...]

events: ready (sessions with every --connect target, the room shared), sent (attachment id; `t_post`, the time
just before the message was posted), downloaded (seconds from the request until every chunk was checked and on
disk; rss growth; chunks per source), painted (a picture message's inline thumbnail decoded and painted with Qt,
offscreen, with its time), forgot, stopped. Every event has `t` (`time.time()`: hosts in network namespaces
share the machine's clock).
commands: {"cmd": "send", "path": P}; {"cmd": "download", "att": HEX, "only": [KEY_HEX] | null, "out": P | null,
"datachannel": bool}; {"cmd": "forget", "att": HEX}; {"cmd": "stop"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from app.files.catalog import find_attachment
from app.files.part import post_with_files
from app.files.sending import store_files
from app.node import Node
from app.profile import open_profile
from app.room import Room
from app.service import NodeService
from crdt.entry import Entry
from crdt.schema import eid
from p2p.errors import P2PError


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, "t": time.time(), **fields}), flush=True)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    """CPU time of this process, every thread counted."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def painter() -> Any:
    """Decode and paint a thumbnail as the message view would (QImage, QPainter; no window needed)."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage, QPainter

    canvas = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)

    def paint(data: bytes) -> bool:
        image = QImage.fromData(data)
        if image.isNull():
            return False
        painter = QPainter(canvas)
        painter.drawImage(QRect(0, 0, image.width(), image.height()), image)
        painter.end()
        return True

    return paint


async def _async_main(args: argparse.Namespace) -> None:
    node = Node(open_profile(Path(args.profile)))
    room: Room = node.room(bytes.fromhex(args.room))
    service = NodeService(node, bind_host=args.host, port=args.port, mdns=False)
    paint = painter()

    def on_entries(r: Room, entries: list[Entry]) -> None:
        for e in entries:
            msg = r.view.message(eid(e.author, e.seq))
            if msg is None or e.author == node.profile.public_key:
                continue
            for a in msg.attachments:
                if a.get("t") and paint(bytes(a["t"])):
                    emit("painted", mid=msg.id)

    service.listeners.entries.append(on_entries)
    await service.async_start()
    targets = []
    for spec in args.connect:
        host, port = spec.rsplit(":", 1)
        for attempt in range(100):  # the other node may still be starting
            try:
                targets.append(await service.async_connect(host, int(port)))
                break
            except P2PError:
                if attempt == 99:
                    raise
                await asyncio.sleep(0.2)
    while not all(room.id in service.peer.shared_rooms(p) for p in targets):
        await asyncio.sleep(0.02)
    emit("ready", key=node.profile.public_key.hex())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    candidates = service.files.candidates
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        if cmd["cmd"] == "stop":
            break
        if cmd["cmd"] == "send":
            found = await asyncio.to_thread(store_files, service.files.store, room.id, [Path(cmd["path"])])
            t_post = time.time()
            mid = post_with_files(service.files.store, room, "general", "", found)
            emit("sent", att=found[0].id, mid=mid, t_post=t_post)
        elif cmd["cmd"] == "forget":
            _mid, manifest = find_attachment(room, cmd["att"])
            service.files.store.remove(manifest.root)
            emit("forgot")
        elif cmd["cmd"] == "download":
            only = {bytes.fromhex(k) for k in cmd.get("only") or []}
            service.files.candidates = (  # type: ignore[method-assign]
                (lambda r: [p for p in candidates(r) if p in only]) if only else candidates)
            service.files.force_datachannel = bool(cmd.get("datachannel"))
            peak = [rss()]
            start_rss = peak[0]

            def sample(done: int, total: int, sources: int) -> None:
                peak[0] = max(peak[0], rss())

            out = Path(cmd["out"]) if cmd.get("out") else None
            started, cpu = time.perf_counter(), cpu_seconds()
            await service.files.async_download(room, cmd["att"], out, progress=sample)
            seconds = time.perf_counter() - started
            emit("downloaded", seconds=seconds, rss_growth_mb=(max(peak[0], rss()) - start_rss) / 2**20,
                 cpu_s=cpu_seconds() - cpu)
        elif cmd["cmd"] == "cpu":
            emit("cpu", cpu_s=cpu_seconds())
    await service.async_stop()
    node.close()
    emit("stopped")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=7700)
    parser.add_argument("--connect", action="append", default=[])
    args = parser.parse_args()
    profile_to = os.environ.get("HUBBUB_BENCH_CPROFILE")
    if not profile_to:
        asyncio.run(_async_main(args))
        return
    import cProfile

    cProfile.runctx("asyncio.run(_async_main(args))", globals(), {"args": args, "asyncio": asyncio},
                    f"{profile_to}.{Path(args.profile).name}")


if __name__ == "__main__":
    main()
