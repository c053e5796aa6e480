"""Baseline for `bench lan`: the same bytes over a bare aiortc data channel, no Hubbub on top.

    python -m bench.lan_transport serve --port 9000            # on host B
    python -m bench.lan_transport send HOST:9000 -n 100000      # on host A; prints JSON

The two ends exchange plain (unsigned) SDP over one TCP connection, open one negotiated, reliable,
ordered channel, and A sends `n` messages of `size` bytes with bufferedAmount back-pressure.
B answers "done" after the last byte and keeps the association up until A hangs up; A reports
the seconds from the first send to that answer.
`measure_in_netns()` runs both ends in two fresh network namespaces (needs root).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription

HIGH_WATER = 1 << 20


def _pc_and_channel() -> tuple[RTCPeerConnection, RTCDataChannel]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    return pc, pc.createDataChannel("raw", negotiated=True, id=1)


async def _send_text(writer: asyncio.StreamWriter, text: str) -> None:
    data = text.encode()
    writer.write(len(data).to_bytes(4, "big") + data)
    await writer.drain()


async def _read_text(reader: asyncio.StreamReader) -> str:
    length = int.from_bytes(await reader.readexactly(4), "big")
    return (await reader.readexactly(length)).decode()


async def async_serve(host: str, port: int, ready: asyncio.Event | None = None) -> None:
    """Accept one sender, receive until it says how much it sent, answer "done", then return."""
    finished = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pc, channel = _pc_and_channel()
        expected = int(await _read_text(reader))
        await pc.setRemoteDescription(RTCSessionDescription(await _read_text(reader), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await _send_text(writer, pc.localDescription.sdp)
        received = 0
        done = asyncio.Event()

        def on_message(message: bytes | str) -> None:
            nonlocal received
            received += len(message)
            if received >= expected:
                done.set()

        channel.on("message", on_message)
        await done.wait()
        channel.send(b"done")
        # Keep the association up until the sender has the answer (it then closes the TCP side):
        # if "done" is lost, SCTP must still be there to retransmit it.
        with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
            await asyncio.wait_for(reader.read(), 60)
        await pc.close()
        writer.close()
        finished.set()

    server = await asyncio.start_server(handle, host, port)
    print(json.dumps({"listening": server.sockets[0].getsockname()[1]}), flush=True)
    if ready is not None:
        ready.set()
    await finished.wait()
    server.close()


async def async_send(host: str, port: int, messages: int, size: int) -> float:
    """Send `messages` x `size` bytes to a serving end; seconds from first send to its "done"."""
    reader, writer = await asyncio.open_connection(host, port)
    pc, channel = _pc_and_channel()
    opened, done = asyncio.Event(), asyncio.Event()
    channel.on("open", opened.set)
    channel.on("message", lambda message: done.set())
    await _send_text(writer, str(messages * size))
    await pc.setLocalDescription(await pc.createOffer())
    await _send_text(writer, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(await _read_text(reader), "answer"))
    await asyncio.wait_for(opened.wait(), 10)
    payload = b"x" * size
    started = time.perf_counter()
    for _ in range(messages):
        channel.send(payload)
        if channel.bufferedAmount > HIGH_WATER:
            while channel.bufferedAmount > HIGH_WATER // 4:
                await asyncio.sleep(0.001)
    await asyncio.wait_for(done.wait(), 300)
    elapsed = time.perf_counter() - started
    writer.close()
    await pc.close()
    return elapsed


def measure_in_netns(messages: int = 100_000, size: int = 100) -> float:
    """Run a receiver and a sender in two fresh network namespaces; return the sender's seconds."""
    from tests.integration.netns import NetnsLan

    with NetnsLan(2, subnet="10.78.0") as lan:
        receiver, sender = lan.hosts
        serve = receiver.python("-m", "bench.lan_transport", "serve", "--port", "9009",
                                stdout=subprocess.PIPE, text=True)
        assert serve.stdout is not None
        serve.stdout.readline()  # listening
        result = sender.run([sys.executable, "-m", "bench.lan_transport", "send",
                             f"{receiver.ip}:9009", "-n", str(messages), "--size", str(size)],
                            timeout=600, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"the raw aiortc sender failed ({result.returncode}): {result.stderr[-2000:]}")
        return float(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lan_transport")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=9009)
    send = sub.add_parser("send")
    send.add_argument("target")
    send.add_argument("-n", "--messages", type=int, default=100_000)
    send.add_argument("--size", type=int, default=100)
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(async_serve(args.host, args.port))
    else:
        host, port = args.target.rsplit(":", 1)
        seconds = asyncio.run(async_send(host, int(port), args.messages, args.size))
        print(json.dumps({"seconds": seconds, "messages": args.messages, "size": args.size}), flush=True)


if __name__ == "__main__":
    main()
