"""A NodeService for `bench lan`, driven by JSON lines on stdin and reporting timings as JSON lines on stdout.

    python -m bench.lan_node --profile DIR --room ROOM_ID_HEX [--expect N] [--test-timings]

Every line it prints is a JSON object with `event` and `t` (`time.time()`: hosts in network
namespaces share the machine's clock, so times from two processes compare directly).

events: starting, started, discovered (first mDNS hint of another node), connected (first
authenticated session), peer_up / peer_down (every session that opens or ends), caught_up (the room holds `--expect` entries), posted (ids with their
post times), arrivals (for the ids asked for: when they were stored and shown, and when the fsync
that covers them completed), stopped.
commands: {"cmd": "post", "n": N, "interval": S} posts N messages S seconds apart (0: all at
once, one loop turn); {"cmd": "arrivals", "ids": [...]}; {"cmd": "stats"} (`PeerNode.stats()`);
{"cmd": "stop"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from app.node import Node
from app.profile import open_profile
from app.room import Room
from app.service import NodeService
from crdt.entry import Entry
from crdt.schema import eid
from p2p.config import Timings
from p2p.events import PeerConnected, PeerDisconnected, PeerEvent

TEXT = "a forty-character message for the bench"


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, "t": time.time(), **fields}), flush=True)


async def _async_main(args: argparse.Namespace) -> None:
    node = Node(open_profile(Path(args.profile)))
    room: Room = node.room(bytes.fromhex(args.room))
    service = NodeService(node, timings=Timings.for_tests() if args.test_timings else None)
    arrived: dict[str, float] = {}
    on_disk: dict[str, float] = {}
    state = {"connected": False, "caught_up": room.log.entry_count >= args.expect}

    def on_entries(r: Room, entries: list[Entry]) -> None:
        now = time.time()
        ids = [eid(e.author, e.seq) for e in entries]
        for i in ids:
            arrived[i] = now

        def durable() -> None:
            then = time.time()
            for i in ids:
                on_disk[i] = then

        service.disk.after(durable)
        if not state["caught_up"] and r.log.entry_count >= args.expect:
            state["caught_up"] = True
            emit("caught_up", entries=r.log.entry_count)

    def on_peer(event: PeerEvent) -> None:
        if isinstance(event, PeerConnected):
            emit("peer_up", peer=event.peer.hex())
            if not state["connected"]:
                state["connected"] = True
                emit("connected", peer=event.peer.hex())
        elif isinstance(event, PeerDisconnected):
            emit("peer_down", peer=event.peer.hex(), reason=event.reason)

    service.listeners.entries.append(on_entries)
    service.peer.add_listener(on_peer)

    async def watch_lan() -> None:
        while True:
            hints = service.peer.lan_peers()
            if hints:
                emit("discovered", node_id=hints[0].node_id)
                return
            await asyncio.sleep(0.005)

    emit("starting", entries=room.log.entry_count)
    watcher = asyncio.create_task(watch_lan())
    await service.async_start()
    emit("started", node_id=service.peer.node_id, key=node.profile.public_key.hex())

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            cmd = json.loads(line)
            if cmd["cmd"] == "post_many":
                t0 = time.time()
                ids = room.post_many("general", [f"{TEXT} {i}" for i in range(int(cmd["n"]))])
                emit("posted", ids={i: t0 for i in ids}, done=time.time())
            elif cmd["cmd"] == "post":
                posted: dict[str, float] = {}
                for i in range(int(cmd["n"])):
                    t0 = time.time()
                    posted[room.post("general", f"{TEXT} {i}")] = t0
                    if cmd.get("interval"):
                        await asyncio.sleep(float(cmd["interval"]))
                emit("posted", ids=posted, done=time.time())
            elif cmd["cmd"] == "arrivals":
                deadline = time.monotonic() + float(cmd.get("timeout", 60))
                wanted = list(cmd["ids"])
                while any(i not in arrived for i in wanted) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                while any(i not in on_disk for i in wanted) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                emit("arrivals", ids={i: arrived.get(i) for i in wanted}, durable={i: on_disk.get(i) for i in wanted})
            elif cmd["cmd"] == "stats":
                emit("stats", **service.peer.stats())
            elif cmd["cmd"] == "stop":
                break
    finally:
        watcher.cancel()
        await service.async_stop()
        node.close()
        emit("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lan_node")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--expect", type=int, default=0, help="entries the room holds once caught up")
    parser.add_argument("--test-timings", action="store_true", help="Timings.for_tests() (short backoff, keepalive)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(_async_main(args))


if __name__ == "__main__":
    main()
