"""A relay the node stops using leaves the peer node entirely: its route is neither a discovery source nor a
signaling path any more (app/relay/part.py with PeerNode.async_remove_source and async_remove_path; loopback, mDNS off)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.node import Node
from app.profile import open_profile
from app.relay.settings import set_profile_relays
from app.service import NodeService
from p2p.config import Timings
from p2p.relay.config import RelayTimings
from tests.integration.relay_proc import RelayProcess

pytestmark = pytest.mark.timeout(60)


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def test_a_relay_no_longer_used_is_removed_as_source_and_as_path(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay") as relay:
        async def body() -> None:
            node = Node(open_profile(tmp_path / "alice", display_name="Alice"))
            set_profile_relays(node.profile, [relay.url])
            svc = NodeService(node, bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests(),
                              relay_timings=RelayTimings.for_tests())
            try:
                await svc.async_start()
                name = f"relay:{relay.url}"
                await until(lambda: name in svc.peer._paths and name in svc.peer._sources, 10, "the relay in use")
                await until(lambda: svc.relays.status()[0]["connected"] is True, 10, "the relay connected")
                set_profile_relays(node.profile, [])
                svc.relays.refresh()
                await until(lambda: name not in svc.peer._paths and name not in svc.peer._sources, 10,
                            "the relay dropped")
                assert svc.relays.status() == [] and "lan" in svc.peer._paths
            finally:
                await svc.async_stop()
                node.close()
        asyncio.run(asyncio.wait_for(body(), 45))
