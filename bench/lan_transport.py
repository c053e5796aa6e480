"""Baselines for `bench lan`: the same traffic over a bare aiortc data channel, no Hubbub on top.

    python -m bench.lan_transport serve --port 9000            # on host B
    python -m bench.lan_transport send HOST:9000 -n 100000      # on host A; prints JSON

The two ends exchange plain (unsigned) SDP over one TCP connection and open one negotiated,
reliable, ordered channel. First A sends `--pings` messages of `size` bytes, one every 10 ms as
`bench lan` posts, each carrying its send time; B answers with the median one-way delay (both
ends read the same machine clock). Then A sends `n` messages of `size` bytes with bufferedAmount
back-pressure; B answers "done" after the last byte and keeps the association up until A hangs up.
A reports the median delay and the seconds from the first bulk send to that answer.
`measure_in_netns()` runs both ends in two fresh network namespaces (needs root).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
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
    """Accept one sender: time its pings, then receive until it says how much it sent, answer "done", return."""
    finished = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pc, channel = _pc_and_channel()
        pings, expected = (int(x) for x in (await _read_text(reader)).split())
        await pc.setRemoteDescription(RTCSessionDescription(await _read_text(reader), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await _send_text(writer, pc.localDescription.sdp)
        delays: list[float] = []
        received = 0
        pinged, done = asyncio.Event(), asyncio.Event()

        def on_message(message: bytes | str) -> None:
            nonlocal received
            if len(delays) < pings:
                assert isinstance(message, bytes)
                delays.append(time.time() - float(message[:20].decode()))
                if len(delays) == pings:
                    pinged.set()
                return
            received += len(message)
            if received >= expected:
                done.set()

        channel.on("message", on_message)
        if pings:
            await pinged.wait()
            channel.send(json.dumps({"delay_p50_ms": statistics.median(delays) * 1000}).encode())
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


async def async_send(host: str, port: int, messages: int, size: int, pings: int = 0) -> tuple[float, float | None]:
    """Ping a serving end `pings` times (10 ms apart), then send `messages` x `size` bytes;
    (seconds from the first bulk send to its "done", median one-way ping delay in ms or None)."""
    reader, writer = await asyncio.open_connection(host, port)
    pc, channel = _pc_and_channel()
    opened, done = asyncio.Event(), asyncio.Event()
    answers: asyncio.Queue[bytes] = asyncio.Queue()
    channel.on("open", opened.set)
    channel.on("message", lambda message: answers.put_nowait(message))
    await _send_text(writer, f"{pings} {messages * size}")
    await pc.setLocalDescription(await pc.createOffer())
    await _send_text(writer, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(await _read_text(reader), "answer"))
    await asyncio.wait_for(opened.wait(), 10)
    delay: float | None = None
    if pings:
        await asyncio.sleep(0.5)  # as in `bench lan`, the session has settled before the first ping
        for _ in range(pings):
            channel.send(f"{time.time():<20.6f}".encode() + b"x" * max(0, size - 20))
            await asyncio.sleep(0.01)
        delay = float(json.loads(await asyncio.wait_for(answers.get(), 30))["delay_p50_ms"])
    channel.on("message", lambda message: done.set())
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
    return elapsed, delay


def measure_in_netns(messages: int = 100_000, size: int = 100, pings: int = 0) -> tuple[float, float | None]:
    """Run a receiver and a sender in two fresh network namespaces; (bulk seconds, median ping delay ms)."""
    from tests.integration.netns import NetnsLan

    with NetnsLan(2, subnet="10.78.0") as lan:
        receiver, sender = lan.hosts
        serve = receiver.python("-m", "bench.lan_transport", "serve", "--port", "9009",
                                stdout=subprocess.PIPE, text=True)
        assert serve.stdout is not None
        serve.stdout.readline()  # listening
        result = sender.run([sys.executable, "-m", "bench.lan_transport", "send",
                             f"{receiver.ip}:9009", "-n", str(messages), "--size", str(size),
                             "--pings", str(pings)],
                            timeout=600, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"the raw aiortc sender failed ({result.returncode}): {result.stderr[-2000:]}")
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        return float(answer["seconds"]), answer["delay_p50_ms"]


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
    send.add_argument("--pings", type=int, default=0, help="timed messages, 10 ms apart, before the bulk transfer")
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(async_serve(args.host, args.port))
    else:
        host, port = args.target.rsplit(":", 1)
        seconds, delay = asyncio.run(async_send(host, int(port), args.messages, args.size, args.pings))
        print(json.dumps({"seconds": seconds, "delay_p50_ms": delay, "messages": args.messages, "size": args.size}),
              flush=True)


if __name__ == "__main__":
    main()
