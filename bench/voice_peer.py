"""One end of a voice benchmark call between two network namespaces (`bench voice`, `bench relay`'s voice part).

    python -m bench.voice_peer rx --port 9010 --out DIR              # the listener, on host B
    python -m bench.voice_peer tx HOST:9010 --speech SPEECH.npy \\
        --calls '[{"loss": 0.05, "jitter_ms": 10, "seed": 100}, ...]'  # the speaker, on host A

    # across NATs (bench relay's `voice` part): both ends dial a splice (`bench.relay_raw splice
    # --pairs N`) on a public host, and ICE gets STUN/TURN servers
    python -m bench.voice_peer rx --dial SPLICE:PORT --out DIR --ice-json '[{"urls": "turn:...", ...}]'
    python -m bench.voice_peer tx SPLICE:PORT --speech SPEECH.npy --calls '[...]' --ice-json '[...]'

Each call is one TCP connection carrying the signaling (plain SDP offer/answer, length-prefixed),
then one aiortc data channel `voice` (negotiated, unordered, maxRetransmits=0, as sessions open
it), with the ICE servers of `--ice-json` (default: none, host candidates only). With `--dial`
the listener does not listen: it dials HOST:PORT for each call, so that a splice can join it to
a speaker when neither can accept a connection. Both ends run the real voice stack: a
`VoiceEngine` driven by `VoiceTransport` on a 10 ms clock. The speaker plays SPEECH.npy (48 kHz int16) through an `ArrayBackend`, its sends wrapped in
a `LossJitterInjector`; the listener records what its core plays.

Timing: both clocks are `time.monotonic()` (CLOCK_MONOTONIC is one clock for the whole machine;
network namespaces do not change it), so times from the two processes compare directly. Once
both ends see the channel open, the speaker names a start time `t0`; its clock starts at `t0`,
the listener's at `t0 + phase` (default 5 ms: half a frame, the mean phase between two devices'
clocks).

After the call the listener writes its played PCM to DIR/call<i>.npy and sends back, on the TCP
connection, the (timestamp, time) of every frame its core played from that frame's own packet,
its jitter-buffer stats, its CPU time and the candidate types of the pair ICE nominated
(`[local, remote]`, e.g. `["relay", "srflx"]`); the speaker prints one JSON line per call with
that, its own pair and the (timestamp, time) at which each frame entered its core.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from aiortc import RTCConfiguration, RTCDataChannel, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from app.voice.backends import ArrayBackend
from app.voice.engine import VoiceEngine
from app.voice.jitter import Playout
from app.voice.transport import LossJitterInjector, VoiceTransport
from p2p.aiortc_hooks import nominated_pair

RX_PHASE = 0.005
START_MARGIN = 0.25  # seconds between naming the start time and starting
SPEAKER = "alice"
LISTENER = "bob"


IceJson = list[dict[str, str]]
"""ICE servers as JSON: `[{"urls": "turn:HOST:PORT?transport=udp", "username": ..., "credential": ...}]`."""


def _pc_and_channel(ice: IceJson) -> tuple[RTCPeerConnection, RTCDataChannel]:
    servers = [RTCIceServer(s["urls"], s.get("username"), s.get("credential")) for s in ice]
    pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
    channel = pc.createDataChannel("voice", ordered=False, maxRetransmits=0, negotiated=True, id=1)
    return pc, channel


def _pair_types(pc: RTCPeerConnection) -> list[str]:
    """The candidate types (host, srflx, prflx, relay) of the nominated pair, local first; [] if none."""
    pair = nominated_pair(pc)
    try:
        return [] if pair is None else [str(pair.local_candidate.type), str(pair.remote_candidate.type)]
    except AttributeError:  # aioice internals moved
        return []


async def _send_json(writer: asyncio.StreamWriter, value: Any) -> None:
    data = json.dumps(value).encode()
    writer.write(len(data).to_bytes(4, "big") + data)
    await writer.drain()


async def _read_json(reader: asyncio.StreamReader) -> Any:
    length = int.from_bytes(await reader.readexactly(4), "big")
    return json.loads(await reader.readexactly(length))


async def _opened(channel: RTCDataChannel, timeout: float = 15.0) -> None:
    if channel.readyState == "open":
        return
    event = asyncio.Event()
    channel.on("open", event.set)
    await asyncio.wait_for(event.wait(), timeout)


async def _until(t: float) -> None:
    """Sleep until monotonic time `t`, spinning through the last 2 ms for a precise start."""
    coarse = t - time.monotonic() - 0.002
    if coarse > 0:
        await asyncio.sleep(coarse)
    while time.monotonic() < t:
        pass


async def _listen_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, out: Path, ice: IceJson) -> None:
    pc, channel = _pc_and_channel(ice)
    try:
        header = await _read_json(reader)
        await pc.setRemoteDescription(RTCSessionDescription(header["offer"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await _send_json(writer, {"answer": pc.localDescription.sdp})
        await _opened(channel)
        await _send_json(writer, {"ready": True})
        start = float((await _read_json(reader))["start"])

        engine, sink = VoiceEngine(), ArrayBackend()
        played: list[tuple[int, float]] = []

        def on_tick(now: float) -> None:
            buf = engine.receiver.buffers.get(SPEAKER)
            if buf is not None and buf.last_kind is Playout.PACKET and buf.last_timestamp is not None:
                played.append((buf.last_timestamp, now))

        transport = VoiceTransport(engine, sink, on_tick=on_tick)
        transport.add_peer(SPEAKER, channel)
        await _until(start + float(header.get("phase", RX_PHASE)))
        began = time.monotonic()
        cpu0 = time.process_time()
        await transport.run(float(header["seconds"]))
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - began
        path = out / f"call{int(header['call'])}.npy"
        np.save(path, sink.output())
        await _send_json(writer, {
            "played": played,
            "stats": dataclasses.asdict(engine.receiver.stats(SPEAKER)),
            "cpu_s": cpu,
            "wall_s": wall,
            "began": began,
            "pcm": str(path),
            "catchup_waits": transport.catchup_waits,
            "late_ticks": transport.late_ticks,
            "pair": _pair_types(pc),
        })
    finally:
        await pc.close()
        writer.close()


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, out: Path, ice: IceJson) -> None:
    try:
        await _listen_one(reader, writer, out, ice)
    except Exception as exc:  # report, keep serving: the speaker sees the connection drop
        print(json.dumps({"error": repr(exc)}), file=sys.stderr, flush=True)


async def listen(port: int, out: Path, ice: IceJson) -> None:
    """Answer calls one after another until killed."""
    lock = asyncio.Lock()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with lock:
            await _answer(reader, writer, out, ice)

    server = await asyncio.start_server(handle, "0.0.0.0", port)
    print(json.dumps({"listening": server.sockets[0].getsockname()[1]}), flush=True)
    async with server:
        await server.serve_forever()


async def dial(target: str, out: Path, ice: IceJson) -> None:
    """Answer calls one after another, dialing `target` (a splice) for each, until killed."""
    host, port = target.rsplit(":", 1)
    print(json.dumps({"dialing": target}), flush=True)
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except OSError as exc:  # the splice is not up yet, or is gone
            print(json.dumps({"error": repr(exc)}), file=sys.stderr, flush=True)
            await asyncio.sleep(0.2)
            continue
        await _answer(reader, writer, out, ice)


async def speak_one(host: str, port: int, speech: np.ndarray, call: int, spec: dict[str, Any],
                    ice: IceJson) -> dict[str, Any]:
    """One call: play `speech` to the listener at host:port through the impairment in `spec`."""
    reader, writer = await asyncio.open_connection(host, port)
    pc, channel = _pc_and_channel(ice)
    try:
        seconds = speech.size / 48000 + 0.3
        await pc.setLocalDescription(await pc.createOffer())
        await _send_json(writer, {"call": call, "offer": pc.localDescription.sdp, "seconds": seconds,
                                  "phase": float(spec.get("phase", RX_PHASE))})
        answer = await _read_json(reader)
        await pc.setRemoteDescription(RTCSessionDescription(answer["answer"], "answer"))
        await _opened(channel)
        await asyncio.wait_for(_read_json(reader), 15)  # the listener's channel is open too
        start = time.monotonic() + START_MARGIN
        await _send_json(writer, {"start": start})

        engine, source = VoiceEngine(), ArrayBackend(speech)
        pushed: list[tuple[int, float]] = []

        def on_tick(now: float) -> None:
            if not source.exhausted or engine.sender.frames_in > len(pushed):
                pushed.append((engine.sender.last_timestamp, now))

        injector = LossJitterInjector(channel.send, float(spec.get("loss", 0.0)),
                                      float(spec.get("jitter_ms", 0.0)), seed=spec.get("seed"))
        transport = VoiceTransport(engine, source, on_tick=on_tick)
        transport.add_peer(LISTENER, channel, lambda send: injector.send)
        await _until(start)
        began = time.monotonic()
        cpu0 = time.process_time()
        await transport.run(seconds)
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - began
        listener = await asyncio.wait_for(_read_json(reader), 30)
        return {"call": call, "spec": spec, "pushed": pushed, "cpu_s": cpu, "wall_s": wall,
                "began": began, "sent": injector.sent, "dropped": injector.dropped, "pair": _pair_types(pc),
                "rx": listener}
    finally:
        await pc.close()
        writer.close()


async def speak(target: str, speech_path: Path, specs: list[dict[str, Any]], ice: IceJson) -> None:
    host, port = target.rsplit(":", 1)
    speech = np.load(speech_path).astype(np.int16)
    for call, spec in enumerate(specs):
        print(json.dumps(await speak_one(host, int(port), speech, call, spec, ice)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.voice_peer")
    sub = parser.add_subparsers(dest="command", required=True)
    rx = sub.add_parser("rx", help="answer calls and record what is played")
    rx.add_argument("--port", type=int, default=9010)
    rx.add_argument("--dial", metavar="HOST:PORT", help="dial this splice for each call instead of listening")
    rx.add_argument("--out", required=True, help="directory for the received PCM (call<i>.npy)")
    tx = sub.add_parser("tx", help="make the calls, one after another; one JSON line per call")
    tx.add_argument("target", help="HOST:PORT of the listener")
    tx.add_argument("--speech", required=True, help="48 kHz int16 speech as .npy")
    tx.add_argument("--calls", required=True, help='JSON list of {"loss", "jitter_ms", "seed", "phase"}')
    for end in (rx, tx):
        end.add_argument("--ice-json", default="[]", help='ICE servers: [{"urls", "username", "credential"}]')
    args = parser.parse_args()
    ice: IceJson = json.loads(args.ice_json)
    if args.command == "rx" and args.dial:
        asyncio.run(dial(args.dial, Path(args.out), ice))
    elif args.command == "rx":
        asyncio.run(listen(args.port, Path(args.out), ice))
    else:
        asyncio.run(speak(args.target, Path(args.speech), json.loads(args.calls), ice))


if __name__ == "__main__":
    main()
