"""`python -m p2p.relay.probe`: `p2p.probe` with a relay: rendezvous tokens, sealed signaling and its TURN servers.

    python -m p2p.relay.probe --relay URL --token TOKENHEX:SEALKEYHEX [...] [p2p.probe options]

Besides p2p.probe's events it prints `relay_connected` (with the ICE servers' URLs, and whether
UDP to the TURN server answered) and, for every authenticated session, `session` with the
peer, its route ("lan", "direct" or "turn") and the ICE attempt used. For the WAN tests and bench.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import nacl.signing

from p2p.events import PeerConnected, PeerEvent
from p2p.node import PeerNode
from p2p.probe import async_main, emit, parser
from p2p.relay.client import RelayClient
from p2p.relay.config import RelayTimings
from p2p.relay.route import RelayRoute


class RelayProbeNode(PeerNode):
    """A PeerNode that connects to a relay first, takes its TURN servers, then meets peers under tokens."""

    def __init__(self, identity: nacl.signing.SigningKey, *, relay: str, tokens: dict[bytes, bytes],
                 **kwargs: Any) -> None:
        timings = RelayTimings.for_tests() if kwargs.get("timings") is not None else RelayTimings()
        self.relay_client = RelayClient(relay, timings=timings)
        self.relay_route = RelayRoute(self.relay_client)
        self.relay_tokens = tokens
        super().__init__(identity, sources=[self.relay_route], paths=[self.relay_route], **kwargs)
        self.add_listener(self._on_event)

    async def async_start(self) -> None:
        await self.relay_client.async_start()
        await self.relay_client.async_wait_connected(15)
        servers = await self.relay_client.async_turn_servers()
        self.set_ice_servers(servers)
        await super().async_start()
        deadline = time.monotonic() + 3
        while self.ice.udp_ok is None and self.ice.probe_target() is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        emit("relay_connected", url=self.relay_client.url, ice=[s.urls for s in servers], udp_ok=self.ice.udp_ok)
        self.relay_client.subscribe(self.relay_tokens)

    async def async_stop(self) -> None:
        await super().async_stop()
        await self.relay_client.async_stop()

    def _on_event(self, event: PeerEvent) -> None:
        if isinstance(event, PeerConnected):
            session = self.session(event.peer)
            if session is not None:
                emit("session", peer=event.peer.hex(), route=session.route, attempt=session.ice_attempt,
                     ice=[s.urls for s in session.ice_servers])


def main() -> None:
    p: argparse.ArgumentParser = parser()
    p.prog = "python -m p2p.relay.probe"
    p.add_argument("--relay", required=True)
    p.add_argument("--token", action="append", default=[], metavar="TOKENHEX:SEALKEYHEX")
    args = p.parse_args()
    tokens = {bytes.fromhex(t): bytes.fromhex(k) for t, k in (item.split(":", 1) for item in args.token)}

    def factory(identity: nacl.signing.SigningKey, **kwargs: Any) -> PeerNode:
        return RelayProbeNode(identity, relay=args.relay, tokens=tokens, **kwargs)

    asyncio.run(async_main(args, factory))


if __name__ == "__main__":
    main()
