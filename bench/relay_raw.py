"""The baseline of `bench relay`: a bare aiortc data channel between the two homes, over the same coturn.

    python -m bench.relay_raw splice --host IP --port N [--pairs K]  # on the relay host
    python -m bench.relay_raw answer IP:N --turn URL --user U --password P
    python -m bench.relay_raw offer IP:N --turn URL --user U --password P --pings 200

Neither home can accept a connection (both are behind NATs), so both ends dial `splice`, which
pipes the two TCP connections together; over it they exchange plain (unsigned) SDP, with the
same single TURN server Hubbub's first ICE attempt gets. Then the offering end sends `--pings`
8-byte send stamps (time.monotonic(), which every namespace shares), 10 ms apart, as `bench
relay` stamps Hubbub messages; the answering end prints the median one-way delay as JSON.
`--pairs K` makes the splice join K pairs of connections, one pair after another (bench relay's
voice part dials it once per call).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import struct
import time

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from bench.lan_transport import _read_text, _send_text

STAMP = struct.Struct(">d")


async def async_splice(host: str, port: int, pairs: int = 1) -> None:
    """Accept connections two by two and pipe each of a pair to the other, `pairs` times."""
    waiting: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    joined = 0
    done = asyncio.Event()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal joined
        waiting.append((reader, writer))
        if len(waiting) == 2:
            (r1, w1), (r2, w2) = waiting
            waiting.clear()
            await asyncio.gather(pump(r1, w2), pump(r2, w1), return_exceptions=True)
            joined += 1
            if joined >= pairs:
                done.set()

    server = await asyncio.start_server(handle, host, port)
    print(json.dumps({"listening": port}), flush=True)
    await done.wait()
    server.close()


def _pc(turn: str, user: str, password: str) -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[RTCIceServer(turn, user, password)]))


async def async_answer(host: str, port: int, turn: str, user: str, password: str) -> dict[str, float]:
    reader, writer = await asyncio.open_connection(host, port)
    pc = _pc(turn, user, password)
    channel = pc.createDataChannel("raw", negotiated=True, id=1)
    pings = int(await _read_text(reader))
    await pc.setRemoteDescription(RTCSessionDescription(await _read_text(reader), "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    await _send_text(writer, pc.localDescription.sdp)
    delays: list[float] = []
    got_all = asyncio.Event()

    def on_message(message: bytes | str) -> None:
        if isinstance(message, bytes) and len(message) == STAMP.size:
            delays.append(time.monotonic() - STAMP.unpack(message)[0])
            if len(delays) >= pings:
                got_all.set()

    channel.on("message", on_message)
    await asyncio.wait_for(got_all.wait(), 60 + pings * 0.05)
    pair = pc.sctp.transport.transport._connection._nominated.get(1)  # type: ignore[union-attr]
    relayed = pair is not None and "relay" in (pair.local_candidate.type, pair.remote_candidate.type)
    result = {"delay_p50_ms": statistics.median(delays) * 1000, "pings": float(len(delays)),
              "relayed": float(relayed)}
    await _send_text(writer, "done")
    await pc.close()
    writer.close()
    return result


async def async_offer(host: str, port: int, turn: str, user: str, password: str, pings: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    pc = _pc(turn, user, password)
    channel = pc.createDataChannel("raw", negotiated=True, id=1)
    opened = asyncio.Event()
    channel.on("open", opened.set)
    await _send_text(writer, str(pings))
    await pc.setLocalDescription(await pc.createOffer())
    await _send_text(writer, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(await _read_text(reader), "answer"))
    await asyncio.wait_for(opened.wait(), 30)
    await asyncio.sleep(0.5)  # as `bench relay` waits before its first stamp: the session has settled
    for _ in range(pings):
        channel.send(STAMP.pack(time.monotonic()))
        await asyncio.sleep(0.01)
    await asyncio.wait_for(_read_text(reader), 60)  # "done"
    await pc.close()
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.relay_raw")
    sub = parser.add_subparsers(dest="command", required=True)
    splice = sub.add_parser("splice")
    splice.add_argument("--host", required=True)
    splice.add_argument("--port", type=int, required=True)
    splice.add_argument("--pairs", type=int, default=1, help="pairs of connections to join, one after another")
    for name in ("answer", "offer"):
        end = sub.add_parser(name)
        end.add_argument("target")
        end.add_argument("--turn", required=True)
        end.add_argument("--user", required=True)
        end.add_argument("--password", required=True)
        end.add_argument("--pings", type=int, default=200)
    args = parser.parse_args()
    if args.command == "splice":
        asyncio.run(async_splice(args.host, args.port, args.pairs))
        return
    host, port = args.target.rsplit(":", 1)
    if args.command == "answer":
        print(json.dumps(asyncio.run(async_answer(host, int(port), args.turn, args.user, args.password))),
              flush=True)
    else:
        asyncio.run(async_offer(host, int(port), args.turn, args.user, args.password, args.pings))


if __name__ == "__main__":
    main()
