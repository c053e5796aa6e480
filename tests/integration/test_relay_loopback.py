"""A real relay process on loopback with real RelayClients and PeerNodes (no mDNS): meet, sealed signaling, mailbox, kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from p2p import PeerConnected, PeerNode, Received, RoomSecret, Timings
from p2p.errors import SignalingError
from p2p.relay.client import RelayClient
from p2p.relay.config import RelayTimings
from p2p.relay.envelope import open_, seal
from p2p.relay.errors import RelayError, RelayUnavailable
from p2p.relay.route import RelayRoute
from tests.integration.relay_proc import RelayProcess

pytestmark = pytest.mark.timeout(90)
ROOM = RoomSecret(b"room-over-relay", b"room secret", "room")


def run(test: Callable[[], Awaitable[None]], timeout: float = 60) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


@contextlib.asynccontextmanager
async def relayed_node(url: str, tokens: dict[bytes, bytes],
                       secrets: list[RoomSecret] = [ROOM]) -> AsyncIterator[tuple[PeerNode, RelayClient, RelayRoute]]:  # noqa: B006
    node = PeerNode(SigningKey.generate(), bind_host="127.0.0.1", mdns=False, timings=Timings.for_tests())
    node.set_secrets(secrets)
    client = RelayClient(url, timings=RelayTimings.for_tests())
    route = RelayRoute(client)
    try:
        await node.async_start()
        await client.async_start()
        await node.async_add_path(route)
        await node.async_add_source(route)
        client.subscribe(tokens)
        yield node, client, route
    finally:
        await node.async_stop()
        await client.async_stop()


def test_two_nodes_meet_under_a_token_and_get_a_session_through_the_relay(tmp_path: Path) -> None:
    tokens = {os.urandom(16): os.urandom(32)}
    with RelayProcess(tmp_path / "relay") as relay:
        async def body() -> None:
            async with relayed_node(relay.url, tokens) as (a, ca, ra), relayed_node(relay.url, tokens) as (b, cb, rb):
                await a.async_wait_for_peer(b.public_key, 15)
                await b.async_wait_for_peer(a.public_key, 5)
                session = a.session(b.public_key)
                assert session is not None and session.route == "direct"  # not "lan": it was made through the relay
                assert a.shared_rooms(b.public_key) == {ROOM.room_id}
                a.send(b.public_key, "sync", ROOM.room_id, b"hello across")
                while True:
                    event = await asyncio.wait_for(b.events.get(), 5)
                    if isinstance(event, Received):
                        assert event.payload == b"hello across"
                        break
                assert ra.malformed == 0 and rb.malformed == 0
        run(body)
    log = relay.log.read_text()
    assert "forward" in log  # the signaling did go through it
    for token in tokens:
        assert token.hex() not in log and token.hex()[:8] not in log  # only 4-hex-digit prefixes


def test_a_removed_relay_path_and_source_leave_the_session_and_open_nothing_more(tmp_path: Path) -> None:
    tokens = {os.urandom(16): os.urandom(32)}
    with RelayProcess(tmp_path / "relay") as relay:
        async def body() -> None:
            async with relayed_node(relay.url, tokens) as (a, _, ra), relayed_node(relay.url, tokens) as (b, _, rb):
                await a.async_wait_for_peer(b.public_key, 15)
                address = next(h.address for h in a._hints.hints(ra.name))
                await a.async_remove_source(ra.name)
                await a.async_remove_path(ra.name)
                await a.async_remove_path(ra.name)  # twice: nothing more to do
                assert ra.name not in a._paths and ra.name not in a._sources  # (a hint with a live session stays)
                with pytest.raises(SignalingError, match="no signaling path"):
                    await a._dial_address(address, None)
                with pytest.raises(ValueError):
                    await a.async_remove_path("lan")
                assert a.session(b.public_key) is not None  # what the path set up lives on
                a.send(b.public_key, "sync", ROOM.room_id, b"still here")
                while not isinstance(event := await asyncio.wait_for(b.events.get(), 5), Received):
                    pass
                assert event.payload == b"still here"
        run(body)


def test_nodes_under_different_tokens_do_not_meet(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay") as relay:
        async def body() -> None:
            async with relayed_node(relay.url, {b"1" * 16: os.urandom(32)}) as (a, _, _), \
                    relayed_node(relay.url, {b"2" * 16: os.urandom(32)}) as (b, _, _):
                with pytest.raises(TimeoutError):
                    await a.async_wait_for_peer(b.public_key, 2)
                assert a.stats()["targets"] == 0
        run(body)


def test_same_token_different_seal_keys_fail_cleanly(tmp_path: Path) -> None:
    token = os.urandom(16)
    with RelayProcess(tmp_path / "relay") as relay:
        async def body() -> None:
            async with relayed_node(relay.url, {token: os.urandom(32)}) as (a, _, ra), \
                    relayed_node(relay.url, {token: os.urandom(32)}) as (b, _, rb):
                with pytest.raises(TimeoutError):
                    await a.async_wait_for_peer(b.public_key, 3)
                assert ra.malformed + rb.malformed > 0 and a.peers() == []
        run(body)


def test_mailbox_put_get_and_turn_without_turn(tmp_path: Path) -> None:
    wrap = os.urandom(32)
    auth = os.urandom(32)
    with RelayProcess(tmp_path / "relay") as relay:
        async def body() -> None:
            writer = RelayClient(relay.url, timings=RelayTimings.for_tests())
            reader = RelayClient(relay.url, timings=RelayTimings.for_tests())
            await writer.async_start()
            await reader.async_start()
            try:
                envelopes = [seal(wrap, f"entry {i}".encode() * (i + 1)) for i in range(600)]
                seqs = await writer.async_put(auth, envelopes)
                assert seqs == list(range(1, 601))
                assert await writer.async_put(auth, envelopes[:3]) == [1, 2, 3]  # duplicates: stored once
                got, last = await reader.async_get(auth, 0, limit=1000)
                assert last == 600 and [s for s, _ in got] == seqs
                assert [open_(wrap, e) for _, e in got] == [f"entry {i}".encode() * (i + 1) for i in range(600)]
                assert (await reader.async_get(auth, 598))[0] == [(599, envelopes[598]), (600, envelopes[599])]
                assert await reader.async_get(os.urandom(32), 0) == ([], 0)  # without the auth: nothing
                assert await reader.async_turn_servers() == []
            finally:
                await writer.async_stop()
                await reader.async_stop()
        run(body)


def test_kill_9_right_after_an_ack_loses_nothing(tmp_path: Path) -> None:
    auth = os.urandom(32)
    relay = RelayProcess(tmp_path / "relay")
    relay.start()
    acked: list[bytes] = []
    try:
        async def write_then_kill() -> None:
            client = RelayClient(relay.url, timings=RelayTimings.for_tests())
            await client.async_start()
            try:
                for batch in range(20):
                    envelopes = [os.urandom(900 + batch) for _ in range(10)]
                    await client.async_put(auth, envelopes)
                    acked.extend(envelopes)
                relay.kill9()  # right after the last ack, before anything else could run
            finally:
                await client.async_stop()
        run(write_then_kill)
        relay.start()

        async def read_back() -> None:
            client = RelayClient(relay.url, timings=RelayTimings.for_tests())
            await client.async_start()
            try:
                got, last = await client.async_get(auth, 0, limit=1000)
                assert [e for _, e in got] == acked and last == 200
            finally:
                await client.async_stop()
        run(read_back)
    finally:
        relay.stop()


def test_requests_without_a_relay_are_one_sentence(tmp_path: Path) -> None:
    async def body() -> None:
        timings = RelayTimings.for_tests()
        timings.connect_timeout = 0.5
        client = RelayClient("hubbub-relay://127.0.0.1:9", timings=timings)
        await client.async_start()
        try:
            with pytest.raises(RelayUnavailable) as info:
                await client.async_get(os.urandom(32), 0)
            assert "not reachable" in str(info.value) and "\n" not in str(info.value)
            assert not client.connected and client.last_error
        finally:
            await client.async_stop()
        with pytest.raises(RelayError):
            RelayClient("http://nope")
    run(body)


def test_the_client_reconnects_and_resubscribes_after_a_relay_restart(tmp_path: Path) -> None:
    tokens = {os.urandom(16): os.urandom(32)}
    relay = RelayProcess(tmp_path / "relay")
    relay.start()
    try:
        async def body() -> None:
            async with relayed_node(relay.url, tokens) as (a, ca, _), relayed_node(relay.url, tokens) as (b, cb, _):
                await a.async_wait_for_peer(b.public_key, 15)
                connects = ca.connects
                ups: list[int] = []
                ca.on_connected(lambda: ups.append(1))
                relay.kill9()
                await asyncio.sleep(0.3)
                assert not ca.connected
                await asyncio.get_running_loop().run_in_executor(None, relay.start)
                await ca.async_wait_connected(10)
                await cb.async_wait_connected(10)
                assert ca.connects == connects + 1 and ups == [1]
                await a.async_stop()  # the session ends; they must meet again through the new relay process
                await a.async_start()
                await b.async_wait_for_peer(a.public_key, 15)
        run(body)
    finally:
        relay.stop()


def test_the_serving_relay_loads_no_qt_audio_aiortc_crdt_or_app(tmp_path: Path) -> None:
    dump = tmp_path / "modules.json"
    tokens = {os.urandom(16): os.urandom(32)}
    with RelayProcess(tmp_path / "relay", dump_modules=dump) as relay:
        async def busy() -> None:
            async with relayed_node(relay.url, tokens) as (a, ca, _), relayed_node(relay.url, tokens) as (b, _, _):
                await a.async_wait_for_peer(b.public_key, 15)
                await ca.async_put(os.urandom(32), [b"x" * 1024])
                await ca.async_get(os.urandom(32), 0)
                await ca.async_turn_servers()
                await asyncio.sleep(1.2)
        run(busy)
        loaded = relay.modules()
    tops = {name.split(".")[0] for name in loaded}
    assert "aiohttp" in tops and "p2p.relay.server" in loaded and "p2p.relay.dispatch" in loaded
    banned = {"PySide6", "shiboken6", "sounddevice", "opuslib", "numpy", "aiortc", "aioice", "av", "zeroconf",
              "pycrdt", "crdt", "app", "ui"}
    assert sorted(tops & banned) == []
    assert sorted(n for n in loaded if n.startswith("p2p.") and not n.startswith("p2p.relay")) == [
        "p2p.budget", "p2p.config", "p2p.errors", "p2p.events", "p2p.frames", "p2p.rooms", "p2p.routes"]


def test_hubbub_relay_serve_loads_only_the_cli_shell(tmp_path: Path) -> None:
    dump = tmp_path / "modules.json"
    with RelayProcess(tmp_path / "relay", via_hubbub=True, dump_modules=dump) as relay:
        assert relay.url.startswith("hubbub-relay://127.0.0.1:")
        time.sleep(1.0)
        loaded = relay.modules()
        assert relay.stop() == 0  # SIGTERM: a clean exit
    tops = {name.split(".")[0] for name in loaded}
    assert sorted(tops & {"PySide6", "sounddevice", "opuslib", "numpy", "aiortc", "aioice", "zeroconf", "pycrdt"}) == []
    shell = {n for n in loaded if n.split(".")[0] in ("app", "crdt", "ui")}
    assert shell <= {"app", "app.cli", "app.cli_args", "app.errors", "app.links", "app.invite", "app.paths",
                     "app.formats",
                     "crdt", "crdt.errors", "ui", "ui.entry", "ui.pyside_guard"}, sorted(shell)
