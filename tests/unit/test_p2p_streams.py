"""Byte streams to a peer (p2p/streams.py): direct TCP keyed from a signed exchange, the data channel fallback,
sealing without copies, framing and back-pressure; on loopback with two PeerStreams wired by an in-memory channel."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import nacl.signing
import pytest

from p2p import stream_frames
from p2p.byte_stream import ByteStream, StreamError
from p2p.dc_stream import WINDOW
from p2p.sealing import Opener, SealError, Sealer
from p2p.stream_frames import Open
from p2p.streams import PeerStreams
from p2p.tcp_pipe import MessagePipe, async_connect, async_listen

pytestmark = pytest.mark.timeout(60)


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), 40))


class Wire:
    """Two nodes' files channels joined in memory (what PeerNode.send and Received do for real)."""

    def __init__(self) -> None:
        self.ends: dict[bytes, PeerStreams] = {}
        self.sent: list[tuple[bytes, bytes]] = []
        self.tamper: Callable[[bytes], bytes] = lambda b: b


class FakeNode:
    def __init__(self, wire: Wire) -> None:
        self.identity = nacl.signing.SigningKey.generate()
        self.public_key = bytes(self.identity.verify_key)
        self.bind_host = "127.0.0.1"
        self.wire = wire

    def send(self, peer: bytes, channel: str, room_id: bytes | None, payload: bytes) -> None:
        assert channel == "files" and room_id is None
        self.wire.sent.append((self.public_key, payload))
        asyncio.get_running_loop().call_soon(self.wire.ends[peer].on_message, self.public_key, self.wire.tamper(payload))

    def buffered_amount(self, peer: bytes, channel: str) -> int:
        return 0

    def session(self, peer: bytes) -> Any:
        return None


async def pair(*, tcp: bool = True) -> tuple[PeerStreams, PeerStreams, list[ByteStream], list[tuple[bytes, str]]]:
    wire = Wire()
    inbound: list[ByteStream] = []
    invalid: list[tuple[bytes, str]] = []
    a_node, b_node = FakeNode(wire), FakeNode(wire)
    a = PeerStreams(a_node, inbound.append)
    b = PeerStreams(b_node, inbound.append, tcp=tcp)
    for s in (a, b):
        s.invalid = lambda peer, why: invalid.append((peer, why))
    wire.ends = {a_node.public_key: a, b_node.public_key: b}
    await a.async_start()
    await b.async_start()
    return a, b, inbound, invalid


async def inbound_stream(inbound: list[ByteStream]) -> ByteStream:
    for _ in range(500):
        if inbound:
            return inbound.pop(0)
        await asyncio.sleep(0.01)
    raise AssertionError("no inbound stream")


def test_sealing_directly_and_through_pynacl_give_the_same_bytes() -> None:
    key = os.urandom(32)
    for direct_seal in (True, False):
        for direct_open in (True, False):
            sealer = Sealer(key, direct=direct_seal)
            opener = Opener(key, sealer.header, direct=direct_open)
            for message in (b"", b"x", os.urandom(200_000), bytearray(b"abc"), memoryview(b"0123456")[2:]):
                sealed = sealer.seal(message, prefix=4)
                plain, _tag = opener.open(memoryview(sealed)[4:])
                assert bytes(plain) == bytes(message)
    sealer = Sealer(key)
    opener = Opener(key, sealer.header)
    bad = sealer.seal(b"hello")
    bad[0] ^= 1
    with pytest.raises(SealError):
        opener.open(bad)
    with pytest.raises(SealError):
        Opener(key, b"short")


def test_a_stream_goes_direct_over_tcp_and_carries_large_messages_both_ways() -> None:
    async def body() -> None:
        a, b, inbound, invalid = await pair()
        stream = await a.async_open(b.node.public_key)
        assert stream.route == "tcp"
        served = await inbound_stream(inbound)
        assert served.route == "tcp" and served.peer == a.node.public_key
        big = os.urandom(1_500_000)
        await stream.send(big)
        await stream.send(b"")
        got = await served.recv()
        assert got is not None and bytes(got) == big
        assert await served.recv() == b""
        await served.send(b"answer")
        assert bytes(await stream.recv() or b"") == b"answer"
        stream.close()
        assert await served.recv() is None
        assert not invalid
        await a.async_stop()
        await b.async_stop()

    run(body)


def test_the_data_channel_carries_the_stream_when_the_holder_has_no_tcp_and_credit_bounds_what_is_queued() -> None:
    async def body() -> None:
        a, b, inbound, _invalid = await pair(tcp=False)
        stream = await a.async_open(b.node.public_key)
        assert stream.route == "datachannel"
        served = await inbound_stream(inbound)
        assert served.route == "datachannel"
        message = os.urandom(300_000)
        sender = asyncio.ensure_future(_send_many(stream, message, 40))  # 12 MB, more than the 4 MiB window
        await asyncio.sleep(0.5)
        assert not sender.done(), "the sender ran ahead of a reader that reads nothing"
        total = 0
        for _ in range(40):
            got = await served.recv()
            assert got is not None and bytes(got) == message
            total += len(got)
        await sender
        assert total == 40 * len(message) > WINDOW
        stream.close()
        assert await served.recv() is None
        await a.async_stop()
        await b.async_stop()

    run(body)


async def _send_many(stream: ByteStream, message: bytes, n: int) -> None:
    for _ in range(n):
        await stream.send(message)


def test_tcp_that_cannot_connect_falls_back_to_the_data_channel() -> None:
    async def body() -> None:
        a, b, inbound, _invalid = await pair()
        b.addresses = lambda: ("127.0.0.2",)  # type: ignore[method-assign]  # nothing listens there
        stream = await a.async_open(b.node.public_key)
        assert stream.route == "datachannel"
        served = await inbound_stream(inbound)
        await stream.send(b"still here")
        assert bytes(await served.recv() or b"") == b"still here"
        await a.async_stop()

    run(body)


def test_a_forged_stream_request_is_refused_and_reported() -> None:
    async def body() -> None:
        a, b, inbound, invalid = await pair()
        forged = Open(os.urandom(16), os.urandom(32), os.urandom(64))
        b.on_message(a.node.public_key, stream_frames.encode(forged))
        b.on_message(a.node.public_key, b"\x09garbage")
        await asyncio.sleep(0.05)
        assert not inbound and len(invalid) == 2 and "signature" in invalid[0][1]
        # A TCP connection naming no stream the holder accepted is closed at once.
        pipe = await async_connect("127.0.0.1", b.port, 1024)
        pipe.start_framing()
        await pipe.write(os.urandom(40))
        assert await pipe.next() is None and pipe.closed
        await a.async_stop()
        await b.async_stop()

    run(body)


def test_an_answer_with_a_bad_signature_fails_the_open() -> None:
    async def body() -> None:
        a, b, _inbound, invalid = await pair()

        def tamper(payload: bytes) -> bytes:
            if payload[0] == stream_frames.ACCEPT:
                return payload[:-1] + bytes([payload[-1] ^ 1])
            return payload

        a.node.wire.tamper = tamper  # type: ignore[attr-defined]
        with pytest.raises(StreamError, match="signature"):
            await a.async_open(b.node.public_key)
        assert invalid
        await a.async_stop()
        await b.async_stop()

    run(body)


def test_a_pipe_frames_messages_and_closes_on_one_over_the_cap() -> None:
    async def body() -> None:
        got: list[MessagePipe] = []
        server = await async_listen("127.0.0.1", 1000, got.append)
        port = server.sockets[0].getsockname()[1]
        client = await async_connect("127.0.0.1", port, 1000)
        await client.write(b"\x00\x00\x00\x03abc", b"\x00\x00\x00\x00")
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
        far = got[0]
        far.start_framing()
        assert await far.next() == bytearray(b"abc")
        assert await far.next() == bytearray(b"")
        await client.write(b"\x00\x00\x10\x00")  # 4096 > the cap of 1000
        assert await far.next() is None and far.error
        server.close()

    run(body)
