"""A bare PeerNode on the command line that prints its events as JSON lines (tests, benchmarks).

    python -m p2p.probe [--host IP] [--port N] [--key HEX] [--secret ROOMHEX:SECRETHEX:LABEL]...
                        [--public ROOMHEX:NAME] [--connect HOST:PORT] [--no-mdns] [--test-timings]

Every line on stdout is one JSON object with an "event" and a monotonic "t". Lines read from
stdin are commands: `send PEERHEX CHANNEL ROOMHEX|- PAYLOADHEX`, `quit`. SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from typing import Any

import nacl.signing

from p2p.config import Timings
from p2p.events import PeerEvent
from p2p.node import PeerNode
from p2p.rooms import PublicRoom, RoomSecret


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, "t": time.monotonic(), **fields}), flush=True)


def describe(event: PeerEvent) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in vars(event).items():
        out[name] = value.hex() if isinstance(value, bytes) else value
    return out


async def async_main(args: argparse.Namespace) -> None:
    key = nacl.signing.SigningKey(bytes.fromhex(args.key)) if args.key else nacl.signing.SigningKey.generate()
    node = PeerNode(
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
    node.set_public_rooms([PublicRoom(bytes.fromhex(r), n) for r, n in (p.split(":", 1) for p in args.public)])
    emit("started", key=node.public_key.hex(), node_id=node.node_id, address=list(node.address),
         start_s=time.monotonic() - started)
    for target in args.connect:
        host, port = target.rsplit(":", 1)
        loop.create_task(node.async_connect(host, int(port)))
    loop.create_task(_watch_lan(node))
    loop.add_reader(sys.stdin.fileno(), lambda: _command(node, stop))
    await stop.wait()
    await node.async_stop()
    emit("stopped")


async def _watch_lan(node: PeerNode) -> None:
    seen: set[str] = set()
    rooms_seen: set[bytes] = set()
    while True:
        for hint in node.lan_peers():
            if hint.node_id not in seen:
                seen.add(hint.node_id)
                print(json.dumps({"event": "discovered", "t": hint.seen_at, "node_id": hint.node_id,
                                  "host": hint.host, "port": hint.port}), flush=True)
        for room in node.public_rooms():
            if room.room_id not in rooms_seen:
                rooms_seen.add(room.room_id)
                emit("public_room", room_id=room.room_id.hex(), name=room.name,
                     members=room.member_count, node_id=room.node_id)
        await asyncio.sleep(0.02)


def _command(node: PeerNode, stop: asyncio.Event) -> None:
    line = sys.stdin.readline()
    if not line or line.strip() == "quit":
        stop.set()
        return
    parts = line.split()
    try:
        if parts[0] == "send":
            peer, channel, room, payload = parts[1:5]
            node.send(bytes.fromhex(peer), channel, None if room == "-" else bytes.fromhex(room),
                      bytes.fromhex(payload))
    except Exception as exc:
        emit("error", message=str(exc))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m p2p.probe")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key")
    parser.add_argument("--secret", action="append", default=[])
    parser.add_argument("--public", action="append", default=[])
    parser.add_argument("--connect", action="append", default=[])
    parser.add_argument("--no-mdns", action="store_true")
    parser.add_argument("--test-timings", action="store_true")
    asyncio.run(async_main(parser.parse_args()))


if __name__ == "__main__":
    main()
