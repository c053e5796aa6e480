"""`bench hostile`, one scenario: honest message latency while a hostile room-key holder floods bad frames.

Three nodes on loopback, one process, default timings (mDNS off): Alice and Bob are members of a
room; Mallory holds the room key (it proves the room secret, so its session matches the room) but is
no member. Bob posts every 10 ms. Mallory sends 10,000 bad frames to Alice as fast as aiortc takes
them (a mix: garbage on the sync channel, broken sync frames, entries that do not decrypt).

- `honest_p99_ms_under_hostile_peer`, `honest_p50_ms_under_hostile_peer`: Bob's post until Alice's
  room listener fires, for the posts made from the start of the flood for 2 s;
- `honest_p50_ms_quiet`: the same with no flood, same run (the baseline);
- `hostile_banned_s`: from Mallory's first bad frame until Alice banned it (target <= 1 s);
- `hostile_frames_before_ban`: how many of them Alice had handled by then.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from app.node import Node
from app.profile import open_profile
from app.room import Room
from app.service import NodeService
from app.wire import encode_sync, room_secret
from crdt.entry import Entry, sign_entry
from crdt.sync import FRAME_ENTRIES, SYNC_VERSION, encode_entries
from p2p import PeerBanned, PeerNode, RoomSecret, Timings

FLOOD = 10_000


def _service(path: Path, name: str) -> NodeService:
    return NodeService(Node(open_profile(path, display_name=name)), bind_host="127.0.0.1", mdns=False)


async def _until(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the scenario did not get going")
        await asyncio.sleep(0.01)


def _bad_frames(room: Room, count: int) -> list[bytes]:
    junk_key = SigningKey.generate()
    bad_entry: Entry = sign_entry(junk_key, room_id=room.id, seq=0, prev=bytes(32), epoch=0, deps=room.log.frontier,
                                  nonce=os.urandom(8), ciphertext=os.urandom(64))
    kinds = [b"\x07garbage", encode_sync(bytes((SYNC_VERSION, FRAME_ENTRIES)) + b"\xff" * 12),
             encode_sync(encode_entries([bad_entry.encode()]))]
    return [kinds[i % len(kinds)] for i in range(count)]


async def _latencies(a: NodeService, room_a: Room, room_b: Room, seconds: float) -> list[float]:
    sent: dict[str, float] = {}
    got: list[float] = []

    def on_entries(room: Room, entries: list[Entry]) -> None:
        if room.id != room_a.id:
            return
        now = time.perf_counter()
        for m in room.history("general")[-len(entries):]:
            if m.text in sent:
                got.append(now - sent.pop(m.text))

    a.listeners.entries.append(on_entries)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        text = f"ping {time.monotonic_ns()} {i}"
        sent[text] = time.perf_counter()
        room_b.post("general", text)
        i += 1
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    a.listeners.entries.remove(on_entries)
    return got


async def _scenario(tmp: Path, quick: bool) -> dict[str, Any]:
    a, b = _service(tmp / "a", "Alice"), _service(tmp / "b", "Bob")
    evil = SigningKey.generate()
    mallory = PeerNode(evil, bind_host="127.0.0.1", mdns=False, timings=Timings())
    await a.async_start()
    await b.async_start()
    await mallory.async_start()
    try:
        room_a = a.create_room("bench")
        await b.async_connect(*a.address)
        room_b = await b.async_join(a.create_invite(room_a).link(), 20)
        quiet = await _latencies(a, room_a, room_b, 1.0 if quick else 2.0)
        banned: list[float] = []
        a.peer.add_listener(lambda e: banned.append(time.monotonic()) if isinstance(e, PeerBanned) else None)
        mallory.set_secrets([RoomSecret(room_a.id, room_secret(room_a.log.current_key() or b""), "room")])
        await mallory.async_connect(*a.address)
        a_key = a.node.profile.public_key
        await _until(lambda: room_a.id in a.peer.shared_rooms(bytes(evil.verify_key)), 10)
        frames = _bad_frames(room_a, FLOOD // 10 if quick else FLOOD)
        handled_before = a.peer.malformed_signaling

        async def flood() -> int:
            sent = 0
            for frame in frames:
                try:
                    mallory.send(a_key, "sync", room_a.id, frame)
                except Exception:
                    break
                sent += 1
                if sent % 200 == 0:
                    await asyncio.sleep(0)
            return sent

        start = time.monotonic()
        flooding = asyncio.create_task(flood())
        under = await _latencies(a, room_a, room_b, 2.0)
        sent = await flooding
        out: dict[str, Any] = {
            "honest_p50_ms_quiet": statistics.median(quiet) * 1000,
            "honest_p50_ms_under_hostile_peer": statistics.median(under) * 1000,
            "honest_p99_ms_under_hostile_peer": sorted(under)[int(len(under) * 0.99) - 1] * 1000 if under else float("nan"),
            "hostile_banned_s": (banned[0] - start) if banned else float("nan"),
            "hostile_frames_sent": sent,
            "hostile_frames_before_ban": a.invalid.get(bytes(evil.verify_key), 0) + a.peer.malformed_signaling - handled_before,
        }
        return out
    finally:
        await mallory.async_stop()
        for svc in (a, b):
            await svc.async_stop()
            svc.node.close()


def run(quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_scenario(Path(tmp), quick))
