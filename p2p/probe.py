"""A bare PeerNode on the command line that prints its events as JSON lines (tests, benchmarks).

    python -m p2p.probe [--host IP] [--port N] [--key HEX] [--secret ROOMHEX:SECRETHEX:LABEL]...
                        [--public ROOMHEX:NAME[:OWNERNAME]] [--connect HOST:PORT] [--no-mdns]
                        [--test-timings] [--report SECONDS]

Every line on stdout is one JSON object with an "event" and a monotonic "t" (hosts in network
namespaces share the machine's clock). Lines read from stdin are commands:
`send PEERHEX CHANNEL ROOMHEX|- PAYLOADHEX`; `stamp PEERHEX CHANNEL ROOMHEX|-` (the payload is
the send time, a big-endian double of time.monotonic()); `connect HOST PORT`; `stats`;
`dialtimes`; `quit`. With `--report`, a `stats` event (RSS, open fds, `PeerNode.stats()`) is
printed that often. SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

import nacl.signing

from p2p.config import Timings
from p2p.events import PeerEvent
from p2p.node import PeerNode
from p2p.rooms import PublicRoom, RoomSecret

NodeFactory = Callable[..., PeerNode]


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, "t": time.monotonic(), **fields}), flush=True)


def describe(event: PeerEvent) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in vars(event).items():
        out[name] = value.hex() if isinstance(value, bytes) else value
    return out


def process_stats() -> dict[str, float]:
    """This process's resident memory (MB), open file descriptors (Linux /proc) and CPU seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    rss = 0.0
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
        fds = float(len(os.listdir("/proc/self/fd")))
    except OSError:
        fds = -1.0
    return {"rss_mb": rss, "fds": fds, "cpu_s": cpu}


async def async_main(args: argparse.Namespace, factory: NodeFactory = PeerNode) -> None:
    key = nacl.signing.SigningKey(bytes.fromhex(args.key)) if args.key else nacl.signing.SigningKey.generate()
    node = factory(
        key, bind_host=args.host, port=args.port, mdns=not args.no_mdns,
        timings=Timings.for_tests() if args.test_timings else None,
    )
    node.set_secrets([
        RoomSecret(bytes.fromhex(r), bytes.fromhex(s), label)
        for r, s, label in (item.split(":", 2) for item in args.secret)
    ])
    node.add_listener(lambda e: emit(type(e).__name__, **describe(e)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    started = time.monotonic()
    emit("starting")
    await node.async_start()
    public = [(p.split(":", 2) + [""])[:3] for p in args.public]
    node.set_public_rooms([PublicRoom(bytes.fromhex(r), n, owner_key=node.public_key, owner_name=o)
                           for r, n, o in public])
    emit("started", key=node.public_key.hex(), node_id=node.node_id, address=list(node.address),
         start_s=time.monotonic() - started, **process_stats())
    tasks = [loop.create_task(_connect(node, *t.rsplit(":", 1))) for t in args.connect]
    tasks.append(loop.create_task(_watch_lan(node)))
    if args.report:
        tasks.append(loop.create_task(_report(node, args.report)))
    loop.add_reader(sys.stdin.fileno(), lambda: _command(node, stop, tasks))
    await stop.wait()
    await node.async_stop()
    emit("stopped")


async def _connect(node: PeerNode, host: str, port: str) -> None:
    try:
        peer = await node.async_connect(host, int(port))
        emit("connect_done", peer=peer.hex())
    except Exception as exc:
        emit("connect_failed", message=str(exc))


async def _report(node: PeerNode, every: float) -> None:
    while True:
        emit("stats", **process_stats(), **node.stats())
        await asyncio.sleep(every)


async def _watch_lan(node: PeerNode) -> None:
    seen: set[str] = set()
    rooms_seen: set[tuple[bytes, str]] = set()
    while True:
        for hint in node.lan_peers():
            if hint.node_id not in seen and len(seen) < 1000:
                seen.add(hint.node_id)
                print(json.dumps({"event": "discovered", "t": hint.seen_at, "node_id": hint.node_id,
                                  "host": hint.host, "port": hint.port}), flush=True)
        for room in node.public_rooms():
            if (room.room_id, room.node_id) not in rooms_seen and len(rooms_seen) < 1000:
                rooms_seen.add((room.room_id, room.node_id))
                emit("public_room", room_id=room.room_id.hex(), name=room.name,
                     members=room.member_count, node_id=room.node_id, owner=room.owner_key.hex(),
                     owner_name=room.owner_name, announcer=room.announcer_key.hex(), tags=list(room.tags))
        await asyncio.sleep(0.02)


def _command(node: PeerNode, stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    line = sys.stdin.readline()
    if not line or line.strip() == "quit":
        stop.set()
        return
    parts = line.split()
    try:
        if parts[0] in ("send", "stamp"):
            peer, channel, room = parts[1:4]
            payload = bytes.fromhex(parts[4]) if parts[0] == "send" else struct.pack(">d", time.monotonic())
            node.send(bytes.fromhex(peer), channel, None if room == "-" else bytes.fromhex(room), payload)
        elif parts[0] == "connect":
            tasks.append(asyncio.ensure_future(_connect(node, parts[1], parts[2])))
        elif parts[0] == "stats":
            emit("stats", **process_stats(), **node.stats())
        elif parts[0] == "dialtimes":
            emit("dialtimes", times=node.dial_times())
    except Exception as exc:
        emit("error", message=str(exc))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m p2p.probe")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--key")
    p.add_argument("--secret", action="append", default=[])
    p.add_argument("--public", action="append", default=[])
    p.add_argument("--connect", action="append", default=[])
    p.add_argument("--no-mdns", action="store_true")
    p.add_argument("--test-timings", action="store_true")
    p.add_argument("--report", type=float, default=0.0, help="print a stats event this often (seconds)")
    return p


def main() -> None:
    asyncio.run(async_main(parser().parse_args()))


if __name__ == "__main__":
    main()
