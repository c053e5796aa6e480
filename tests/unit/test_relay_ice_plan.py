"""p2p.ice_plan: which STUN/TURN servers each session attempt gets, the per-peer fallback, the UDP probe."""

from __future__ import annotations

import asyncio
import socket
import struct

from p2p.ice_plan import MAGIC_COOKIE, IcePlan, async_probe_udp, with_stun
from p2p.routes import IceServer

STUN = IceServer("stun:198.18.0.2:3478")
UDP = IceServer("turn:198.18.0.2:3478?transport=udp", "1:x", "pw")
TCP = IceServer("turn:198.18.0.2:3478?transport=tcp", "1:x", "pw")
TLS = IceServer("turns:198.18.0.2:5349?transport=tcp", "1:x", "pw")
PEER, OTHER = b"p" * 32, b"q" * 32


def test_first_udp_then_tcp_per_peer() -> None:
    plan = IcePlan([STUN, UDP, TCP])
    assert plan.attempts() == [[STUN, UDP], [TCP]]
    assert plan.for_peer(PEER) == (0, [STUN, UDP])
    plan.failed(PEER)
    assert plan.for_peer(PEER) == (1, [TCP])
    assert plan.for_peer(OTHER) == (0, [STUN, UDP])  # another peer is not affected
    plan.succeeded(PEER)
    assert plan.for_peer(PEER) == (1, [TCP])  # what worked is kept
    plan.failed(PEER)
    assert plan.for_peer(PEER) == (0, [STUN, UDP])  # and after that fails too, round again


def test_udp_blocked_leaves_out_stun_and_turn_udp() -> None:
    plan = IcePlan([STUN, UDP, TCP])
    plan.udp_ok = False
    assert plan.attempts() == [[TCP]]
    plan.failed(PEER)
    assert plan.for_peer(PEER) == (0, [TCP])


def test_tls_is_a_stream_attempt_and_no_servers_means_host_only() -> None:
    assert IcePlan([UDP, TLS]).attempts() == [[UDP], [TLS]]
    assert IcePlan([]).attempts() == [[]]
    assert IcePlan([STUN]).attempts() == [[STUN]]
    assert IcePlan([TCP]).attempts() == [[TCP]]


def test_probe_target_prefers_turn_over_udp() -> None:
    assert IcePlan([STUN, UDP]).probe_target() == ("198.18.0.2", 3478)
    assert IcePlan([IceServer("stun:127.0.0.1:9")]).probe_target() == ("127.0.0.1", 9)
    assert IcePlan([TCP]).probe_target() is None


def test_failures_are_bounded() -> None:
    plan = IcePlan([UDP, TCP])
    for i in range(2000):
        plan.failed(i.to_bytes(32, "big"))
    assert len(plan._failures) == 1024


def test_udp_probe_against_a_real_socket_on_loopback() -> None:
    async def run() -> tuple[bool, bool]:
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("127.0.0.1", 0))
        server.setblocking(False)
        loop = asyncio.get_running_loop()

        async def answer() -> None:
            data, addr = await loop.sock_recvfrom(server, 64)
            assert struct.unpack(">HHI", data[:8]) == (0x0001, 0, MAGIC_COOKIE)
            await loop.sock_sendto(server, struct.pack(">HHI", 0x0101, 0, MAGIC_COOKIE) + data[8:20], addr)

        task = asyncio.create_task(answer())
        ok = await async_probe_udp(server.getsockname(), timeout=1.0)
        await task
        port = server.getsockname()[1]
        server.close()
        silent = await async_probe_udp(("127.0.0.1", port), timeout=0.3)  # nobody there any more
        return ok, silent

    assert asyncio.run(run()) == (True, False)


def test_the_turn_server_is_also_the_first_stun_server() -> None:
    assert with_stun([UDP, TCP]) == [STUN, UDP, TCP]
    assert with_stun([TLS]) == [TLS]  # no plain turn: entry to take a port from
    assert with_stun([IceServer("stun:10.0.0.1:19302"), UDP]) == [IceServer("stun:10.0.0.1:19302"), UDP]
    assert with_stun([]) == []
    v6 = IceServer("turn:[2001:db8::1]:3478?transport=udp")
    assert with_stun([v6]) == [v6]  # aiortc reads no IPv6 literal in a URL
    plan = IcePlan(with_stun([UDP, TCP]))
    assert plan.attempts() == [[STUN, UDP], [TCP]]
    plan.udp_ok = False
    assert plan.attempts() == [[TCP]]
