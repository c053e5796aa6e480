"""A hostile relay at p2p level: it alters, replays or reorders the sealed frames it forwards.

A real RelayServer on loopback whose forwarding is tampered with, two real PeerNodes (no mDNS)
under one token: every conversation fails cleanly (counted as malformed, nothing escapes the
event loop), no session comes up; the same nodes through an honest relay get one.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from p2p.relay.config import RelayLimits
from p2p.relay.dispatch import Dispatcher
from p2p.relay.server import RelayServer
from p2p.relay.wire import Frame, Kind, encode
from tests.integration.test_relay_loopback import relayed_node, run

pytestmark = pytest.mark.timeout(90)


class TamperingDispatcher(Dispatcher):
    """Forwards like the real one, but as `mode` says: "alter", "replay", "reorder" or "honest"."""

    mode = "honest"

    def __init__(self, server: RelayServer) -> None:
        super().__init__(server)
        self.held: dict[Any, bytes] = {}
        self.tampered = 0

    def _forward(self, conn: Any, frame: Frame) -> None:
        token, handle, payload = frame.fields
        target: Any = self.server.rendezvous.resolve(token, handle)
        mine = self.server.rendezvous.handle_of(conn, token)
        if self.mode == "honest" or target is None or mine is None:
            super()._forward(conn, frame)
            return
        self.tampered += 1
        if self.mode == "alter":
            spot = len(payload) // 2
            payload = payload[:spot] + bytes([payload[spot] ^ 0x01]) + payload[spot + 1:]
            target.send(encode(Kind.DELIVER, 0, token, mine, payload))
        elif self.mode == "replay":
            for _ in range(2):
                target.send(encode(Kind.DELIVER, 0, token, mine, payload))
        elif self.mode == "reorder":  # hold each frame until the next one from the same sender has gone
            previous = self.held.pop(conn, None)
            target.send(encode(Kind.DELIVER, 0, token, mine, payload))
            if previous is None:
                self.held[conn] = payload
            else:
                target.send(encode(Kind.DELIVER, 0, token, mine, previous))


@pytest.mark.parametrize("mode", ["alter", "replay", "reorder"])
def test_a_relay_that_tampers_with_forwarded_frames_gets_no_session_made(tmp_path: Path, mode: str) -> None:
    tokens = {os.urandom(16): os.urandom(32)}

    async def body() -> None:
        escaped: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: escaped.append(context))
        server = RelayServer(tmp_path / "relay", RelayLimits())
        dispatcher = TamperingDispatcher(server)
        dispatcher.mode = mode
        server.dispatcher = dispatcher
        host, port = await server.async_start("127.0.0.1", 0)
        url = f"hubbub-relay://{host}:{port}"
        try:
            async with relayed_node(url, tokens) as (a, _, ra), relayed_node(url, tokens) as (b, _, rb):
                with pytest.raises(TimeoutError):
                    await a.async_wait_for_peer(b.public_key, 6)
                assert a.peers() == [] and b.peers() == [] and a.session(b.public_key) is None
                assert dispatcher.tampered > 0
                assert ra.malformed + rb.malformed > 0  # the tampering was seen, not just a timeout
                dispatcher.mode = "honest"
                await a.async_wait_for_peer(b.public_key, 30)  # the same nodes, once the relay behaves
                await b.async_wait_for_peer(a.public_key, 5)
        finally:
            await server.async_stop()
        assert not escaped, [c.get("message") for c in escaped]

    run(body, timeout=80)
