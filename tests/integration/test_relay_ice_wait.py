"""A session off the LAN waits (at most 1 s) for the node's UDP probe of the TURN server (loopback, mDNS off).

Made while the probe is out, it would try TURN over UDP where UDP is blocked, stall gathering on the
silent server and fail its handshake before the next session tried TCP (issue 13: a join of 6.5 s).
Likewise it waits (at most 1.5 s) for TURN credentials a relay is handing out (`expect_turn`), and
when TURN servers arrive our own dials still setting up a session without them start over with them
(tests/integration/test_wan_turn_late.py is the same across real NATs).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

from nacl.signing import SigningKey

from p2p.config import Timings
from p2p.control import Role
from p2p.ice_plan import MAGIC_COOKIE, TURN_WAIT
from p2p.node import PeerNode
from p2p.routes import IceServer
from tests.integration.test_p2p_loopback import SHARED, make_node

PEER = b"p" * 32


def servers(port: int) -> list[IceServer]:
    return [IceServer(f"stun:127.0.0.1:{port}"),
            IceServer(f"turn:127.0.0.1:{port}?transport=udp", "1:x", "pw"),
            IceServer(f"turn:127.0.0.1:{port}?transport=tcp", "1:x", "pw")]


async def waited(answer: bool, turn_after: float | None = None) -> tuple[float, list[str]]:
    """How long the wait before a session took, and the URLs the session then gets.

    `turn_after`: the node expects TURN credentials, which come (are set) that many seconds later
    (None: the servers are set at once, nothing expected; inf: they never come)."""
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
        port = udp.getsockname()[1]
        started = time.monotonic()
        if turn_after is None:
            node.set_ice_servers(servers(port))  # the probe starts now
        else:
            node.expect_turn()
            if turn_after != float("inf"):
                loop.call_later(turn_after, node.set_ice_servers, servers(port))
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


def test_expected_turn_credentials_are_waited_for_until_they_come() -> None:
    took, urls = asyncio.run(waited(answer=True, turn_after=0.4))
    assert 0.35 <= took < 1.2, took  # the credentials, then the probe's answer
    assert urls[0].startswith("stun:") and urls[1].endswith("?transport=udp"), urls


def test_expected_turn_credentials_that_never_come_are_waited_for_at_most_turn_wait() -> None:
    took, urls = asyncio.run(waited(answer=True, turn_after=float("inf")))
    assert TURN_WAIT - 0.1 <= took <= TURN_WAIT + 0.5, took
    assert urls == [], urls  # host candidates only: what there is


async def given_up_when_turn_arrives() -> dict[str, str]:
    """Sessions set up without TURN, then TURN servers arrive: which of them are closed, and why."""
    node = PeerNode(SigningKey.generate(), bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests())
    made = {}
    for name, role, route in (("dial off the lan", Role.DIALER, "direct"), ("dial on the lan", Role.DIALER, "lan"),
                              ("answer off the lan", Role.LISTENER, "direct")):
        session = node._new_session(role, bytes([len(made)]) * 32)
        session.base_route = route
        made[name] = session
    try:
        node.set_ice_servers(servers(9))  # (never started: nothing is probed)
        await asyncio.sleep(0.5)
        with_turn = node._new_session(Role.DIALER, b"t" * 32)
        with_turn.base_route = "direct"
        node.set_ice_servers(servers(10))  # TURN again, new credentials: nothing more is given up
        await asyncio.sleep(0.3)
        made["dial made with turn"] = with_turn
        return {name: s.close_reason for name, s in made.items()}
    finally:
        for s in made.values():
            await s.async_close("test over")


def test_when_turn_arrives_our_dials_off_the_lan_without_it_start_over() -> None:
    assert asyncio.run(given_up_when_turn_arrives()) == {
        "dial off the lan": "TURN servers arrived", "dial on the lan": "", "answer off the lan": "",
        "dial made with turn": ""}


def test_a_lan_session_never_waits_for_expected_turn_credentials() -> None:
    async def body() -> tuple[float, str]:
        a, b = make_node([SHARED]), make_node([SHARED])
        await a.async_start()
        await b.async_start()
        try:
            for node in (a, b):
                node.expect_turn(within=6.0)  # a relay with TURN just connected, its credentials never come
            started = time.monotonic()
            peer = await b.async_connect(*a.address)
            took = time.monotonic() - started
            session = b.session(peer)
            assert session is not None
            return took, session.route
        finally:
            await b.async_stop()
            await a.async_stop()

    took, route = asyncio.run(body())
    assert route == "lan" and took < 3.0, (route, took)  # made at once, not after the 6 s a relay session would wait
