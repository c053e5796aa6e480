"""Real aiortc sessions between PeerNodes on loopback: auth, room matching, channels, reconnect, hostile peers."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest
from aiortc import RTCPeerConnection
from nacl.signing import SigningKey

from p2p import (
    NotSharedError,
    P2PError,
    PeerBanned,
    PeerConnected,
    PeerDisconnected,
    PeerEvent,
    PeerNode,
    Received,
    RoomMatched,
    RoomSecret,
    Timings,
)
from p2p.control import Role
from p2p.frames import FrameType, decode_frame, encode_frame, stream_prefix
from p2p.session import Session
from p2p.signal_message import sign_signal
from p2p.signaling import async_read_frame

pytestmark = pytest.mark.timeout(60)
E = TypeVar("E", bound=PeerEvent)
SHARED = RoomSecret(b"room-shared", b"shared secret", "room")


def run(test: Callable[[], Awaitable[None]], timeout: float = 30) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def make_node(secrets: list[RoomSecret] = [], port: int = 0, key: SigningKey | None = None) -> PeerNode:
    node = PeerNode(key or SigningKey.generate(), bind_host="127.0.0.1", port=port, mdns=False,
                    timings=Timings.for_tests())
    node.set_secrets(secrets)
    return node


async def next_event(node: PeerNode, kind: type[E], timeout: float = 5.0,
                     where: Callable[[E], bool] = lambda e: True) -> E:
    deadline = time.monotonic() + timeout
    while True:
        event = await asyncio.wait_for(node.events.get(), max(0.01, deadline - time.monotonic()))
        if isinstance(event, kind) and where(event):
            return event


@contextlib.asynccontextmanager
async def running(*nodes: PeerNode) -> AsyncIterator[None]:
    """Start `nodes`, and stop them all however the block ends."""
    try:
        for node in nodes:
            await node.async_start()
        yield
    finally:
        for node in nodes:
            await node.async_stop()


def drain(node: PeerNode) -> list[PeerEvent]:
    out = []
    while not node.events.empty():
        out.append(node.events.get_nowait())
    return out


def test_connect_authenticate_match_and_exchange_on_every_channel() -> None:
    async def body() -> None:
        a = make_node([SHARED, RoomSecret(b"only-a", b"a secret", "room")])
        b = make_node([RoomSecret(b"room-shared", b"shared secret", "invite:xyz"),
                       RoomSecret(b"only-b", b"b secret", "room")])
        async with running(a, b):
            started = time.monotonic()
            peer = await a.async_connect(*b.address)
            print(f"\nloopback connect to authenticated: {(time.monotonic() - started) * 1000:.0f} ms")
            assert peer == b.public_key
            assert (await next_event(b, PeerConnected)).peer == a.public_key
            match_a = await next_event(a, RoomMatched)
            match_b = await next_event(b, RoomMatched)
            assert (match_a.room_id, match_a.my_label, match_a.their_label) == (
                b"room-shared", "room", "invite:xyz")
            assert (match_b.peer, match_b.my_label, match_b.their_label) == (
                a.public_key, "invite:xyz", "room")
            await asyncio.sleep(0.1)
            assert not [e for e in drain(a) + drain(b) if isinstance(e, RoomMatched)]
            assert a.shared_rooms(peer) == {b"room-shared"}

            for channel in ("sync", "live", "voice", "files"):
                a.send(peer, channel, b"room-shared", channel.encode() * 3)
                got = await next_event(b, Received)
                assert (got.peer, got.channel, got.room_id, got.payload) == (
                    a.public_key, channel, b"room-shared", channel.encode() * 3)
            b.send(a.public_key, "live", None, b"presence: online")
            got = await next_event(a, Received)
            assert (got.room_id, got.payload) == (None, b"presence: online")
            big = bytes(range(256)) * 800
            a.send(peer, "sync", b"room-shared", big)
            assert (await next_event(b, Received)).payload == big
            assert a.buffered_amount(peer, "sync") >= 0

            with pytest.raises(NotSharedError):
                a.send(peer, "sync", b"only-a", b"must not leave")
            with pytest.raises(ValueError):
                a.send(peer, "nope", None, b"")

            b.set_secrets([*b._secrets, RoomSecret(b"only-a", b"a secret", "invite:late")])
            late = await next_event(a, RoomMatched)
            assert (late.room_id, late.their_label) == (b"only-a", "invite:late")
            assert a.peers() == [b.public_key] and b.peers() == [a.public_key]
            for node, other in ((a, b), (b, a)):  # a round trip measured from the first PING/PONG on
                session = node.session(other.public_key)
                assert session is not None
                rtt = session.rtt
                assert isinstance(rtt, float) and 0 < rtt < 1.0, rtt
        assert (await next_event(b, PeerDisconnected, where=lambda e: e.peer == a.public_key))

    run(body)


def test_reconnects_with_backoff_after_peer_restarts() -> None:
    async def body() -> None:
        key_b = SigningKey.generate()
        a, b = make_node([SHARED]), make_node([SHARED], key=key_b)
        await a.async_start()
        await b.async_start()
        port = b.address[1]
        try:
            await a.async_connect("127.0.0.1", port)
            await next_event(a, RoomMatched)
            await b.async_stop()
            gone = await next_event(a, PeerDisconnected)
            assert gone.peer == key_b.verify_key.encode()
            stopped = time.monotonic()
            b = make_node([SHARED], port=port, key=key_b)
            await b.async_start()
            back = await next_event(a, PeerConnected, timeout=8)
            print(f"\nreconnected {time.monotonic() - stopped:.2f} s after the peer restarted")
            assert back.peer == b.public_key
            await next_event(a, RoomMatched)
            a.send(b.public_key, "sync", SHARED.room_id, b"missed you")
            assert (await next_event(b, Received)).payload == b"missed you"
        finally:
            await a.async_stop()
            await b.async_stop()

    run(body)


# -- hostile peers -------------------------------------------------------------------------------

async def raw_exchange(address: tuple[str, int], payload: bytes) -> bytes | None:
    """Send raw bytes after the HELLO; return the REJECT reason (past an ADMIT), or None if the node hung up."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        hello = await async_read_frame(reader, 3)
        assert hello.type is FrameType.HELLO
        writer.write(payload)
        await writer.drain()
        try:
            reply = await async_read_frame(reader, 3)
            if reply.type is FrameType.ADMIT:
                reply = await async_read_frame(reader, 3)
        except P2PError:
            return None
        assert reply.type is FrameType.REJECT
        return reply.fields[0]
    finally:
        writer.close()


async def signed_offer(target: PeerNode, *, tamper_sdp: bool = False, wrong_fp: bool = False,
                       recipient: bytes | None = None) -> bytes:
    pc = RTCPeerConnection()
    pc.createDataChannel("x", negotiated=True, id=0)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    key = SigningKey.generate()
    frame = sign_signal(key, FrameType.OFFER, recipient or target.public_key,
                        b"s" * 16, sdp, fingerprint=b"\x00" * 32 if wrong_fp else None)
    if tamper_sdp:
        frame = frame.replace(b"a=setup:", b"a=setup:x")
        frame = frame.replace(b"a=setup:xactpass", b"a=setup:actpass")  # keep the length equal
        frame = frame.replace(b"webrtc-datachannel", b"webrtc-datachannex")
    knock = encode_frame(FrameType.KNOCK, bytes(key.verify_key), bytes(32 * 8))  # proves no room: a stranger
    return stream_prefix(knock) + knock + stream_prefix(frame) + frame


def test_garbage_oversized_and_forged_signaling_is_rejected_and_honest_peers_still_connect() -> None:
    async def body() -> None:
        a, b = make_node([SHARED]), make_node([SHARED])
        async with running(a, b):
            garbage = b"\x00\x00\x00\x10" + b"\xff" * 16
            assert await raw_exchange(b.address, garbage) == b"malformed"
            oversized = struct.pack(">I", 0xFFFFFFF0) + b"\x01\x02"
            assert await raw_exchange(b.address, oversized) == b"malformed"
            reason = await raw_exchange(b.address, await signed_offer(b, tamper_sdp=True))
            assert reason is not None and b"signature" in reason
            reason = await raw_exchange(b.address, await signed_offer(b, wrong_fp=True))
            assert reason is not None and b"fingerprint" in reason
            reason = await raw_exchange(b.address, await signed_offer(b, recipient=a.public_key))
            assert reason is not None and b"another key" in reason
            assert b.malformed_signaling >= 4
            assert b.peers() == []

            assert await a.async_connect(*b.address) == b.public_key
            await next_event(b, RoomMatched)
            a.send(b.public_key, "sync", SHARED.room_id, b"still fine")
            assert (await next_event(b, Received)).payload == b"still fine"

    run(body)


class LyingSession(Session):
    """Signs a DTLS fingerprint other than its own in the challenge-response."""

    def _make_control(self, remote_fingerprint: bytes) -> None:
        super()._make_control(remote_fingerprint)
        assert self._control is not None
        self._control.local_fingerprint = b"\x42" * 32


class LyingNode(PeerNode):
    def _new_session(self, role: Role, peer: bytes) -> Session:
        session = LyingSession(self.identity, role, peer, self._secrets, self, self.timings)
        self._pending.add(session)
        return session


def test_proof_for_another_dtls_session_gets_the_peer_banned() -> None:
    async def body() -> None:
        liar = LyingNode(SigningKey.generate(), bind_host="127.0.0.1", mdns=False,
                         timings=Timings.for_tests())
        b = make_node([SHARED])
        async with running(liar, b):
            with pytest.raises(P2PError):
                await liar.async_connect(*b.address)
            banned = await next_event(b, PeerBanned)
            assert banned.peer == liar.public_key and "authentication" in banned.reason
            assert b.peers() == [] and b.is_banned(liar.public_key)

    run(body)


def test_peer_sending_garbage_frames_is_dropped_and_banned_while_others_keep_working() -> None:
    async def body() -> None:
        a, b, hostile = make_node([SHARED]), make_node([SHARED]), make_node([SHARED])
        async with running(a, b, hostile):
            await a.async_connect(*b.address)
            await hostile.async_connect(*b.address)
            session = hostile.session(b.public_key)
            assert session is not None
            bad_frames = [
                b"garbage",
                bytes([1, FrameType.DATA]) + struct.pack(">I", 0xFFFFFFFF),
                encode_frame(FrameType.PING, b"x"),  # a control frame on a data channel
                bytes([9, FrameType.DATA]) + b"\x00" * 8,
            ]
            for frame in bad_frames:
                session.send_raw("sync", frame)
            banned = await next_event(b, PeerBanned)
            assert banned.peer == hostile.public_key
            await next_event(b, PeerDisconnected, where=lambda e: e.peer == hostile.public_key)
            assert b.peers() == [a.public_key]
            with pytest.raises(P2PError, match="banned"):
                await hostile._async_dial(*b.address)

            a.send(b.public_key, "live", SHARED.room_id, b"honest")
            got = await next_event(b, Received)
            assert (got.peer, got.payload) == (a.public_key, b"honest")
            with pytest.raises(Exception):
                decode_frame(bad_frames[1])

    run(body)
