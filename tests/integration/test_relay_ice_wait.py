"""A session off the LAN waits (at most 1 s) for the node's UDP probe of the TURN server (loopback, mDNS off).

Made while the probe is out, it would try TURN over UDP where UDP is blocked, stall gathering on the
silent server and fail its handshake before the next session tried TCP (issue 13: a join of 6.5 s).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

from nacl.signing import SigningKey

from p2p.config import Timings
from p2p.ice_plan import MAGIC_COOKIE
from p2p.node import PeerNode
from p2p.routes import IceServer

PEER = b"p" * 32


def servers(port: int) -> list[IceServer]:
    return [IceServer(f"stun:127.0.0.1:{port}"),
            IceServer(f"turn:127.0.0.1:{port}?transport=udp", "1:x", "pw"),
            IceServer(f"turn:127.0.0.1:{port}?transport=tcp", "1:x", "pw")]


async def waited(answer: bool) -> tuple[float, list[str]]:
    """How long the wait before a session took, and the URLs the session then gets."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    loop = asyncio.get_running_loop()

    async def stun() -> None:
        while True:
            data, addr = await loop.sock_recvfrom(udp, 64)
            await loop.sock_sendto(udp, struct.pack(">HHI", 0x0101, 0, MAGIC_COOKIE) + data[8:20], addr)

    responder = asyncio.create_task(stun()) if answer else None
    node = PeerNode(SigningKey.generate(), bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests())
    try:
        await node.async_start()
        node.set_ice_servers(servers(udp.getsockname()[1]))  # the probe starts now
        started = time.monotonic()
        await node._async_ice_ready()
        took = time.monotonic() - started
        return took, [s.urls for s in node.ice.for_peer(PEER)[1]]
    finally:
        if responder is not None:
            responder.cancel()
        await node.async_stop()
        udp.close()


def test_with_udp_silent_the_first_session_waits_a_second_then_goes_over_tcp() -> None:
    took, urls = asyncio.run(waited(answer=False))
    assert 0.9 <= took <= 1.5, took  # it waited, and not past its bound
    assert len(urls) == 1 and urls[0].endswith("?transport=tcp"), urls


def test_with_udp_answering_the_wait_is_one_round_trip_and_the_session_tries_udp() -> None:
    took, urls = asyncio.run(waited(answer=True))
    assert took < 0.8, took  # back on the answer, long before the 1 s bound
    assert urls[0].startswith("stun:") and urls[1].endswith("?transport=udp") and len(urls) == 2, urls
