"""Hostile clients against a real relay on loopback while an honest RelayClient keeps getting answers.

Garbage, wrong-kind and text frames, an oversized frame, a request flood, many connections from
one address, mailbox reads and writes without the auth, and a disk filler: each hostile
connection gets ERROR frames (one sentence) and is closed or refused; the honest client's puts
and gets keep working and its mailbox is intact; the data folder stays under the quota.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from p2p.relay.client import RelayClient
from p2p.relay.config import RelayTimings
from p2p.relay.errors import RelayQuotaError
from p2p.relay.wire import Kind, decode, encode, u32, u64
from tests.integration.relay_proc import RelayProcess, disk_bytes

pytestmark = pytest.mark.timeout(120)
MIB = 1024 * 1024


def run(test: Callable[[], Awaitable[None]], timeout: float = 90) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def ws_url(url: str) -> str:
    return "ws://" + url.removeprefix("hubbub-relay://") + "/"


class Honest:
    """An honest client with its own mailbox: every check puts one envelope and reads the whole mailbox back."""

    def __init__(self, url: str) -> None:
        self.client = RelayClient(url, timings=RelayTimings.for_tests())
        self.auth = os.urandom(32)
        self.stored: list[bytes] = []
        self.slowest = 0.0

    async def check(self) -> None:
        started = time.monotonic()
        envelope = os.urandom(1000)
        seqs = await self.client.async_put(self.auth, [envelope])
        self.stored.append(envelope)
        assert seqs == [len(self.stored)]
        got, last = await self.client.async_get(self.auth, 0, limit=500)
        assert [e for _, e in got] == self.stored and last == len(self.stored)
        self.slowest = max(self.slowest, time.monotonic() - started)


@contextlib.asynccontextmanager
async def honest_and_http(url: str) -> AsyncIterator[tuple[Honest, aiohttp.ClientSession]]:
    """A connected honest client and an HTTP session for the hostile WebSockets."""
    honest = Honest(url)
    await honest.client.async_start()
    try:
        async with aiohttp.ClientSession() as http:
            yield honest, http
    finally:
        await honest.client.async_stop()


async def frames_until_closed(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10) -> list[bytes]:
    """Every binary message the relay sends until it closes the connection (AssertionError if it does not)."""
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        if msg.type is aiohttp.WSMsgType.BINARY:
            got.append(msg.data)
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
                          aiohttp.WSMsgType.ERROR):
            return got
    raise AssertionError("the relay kept the hostile connection open")


def errors(frames: list[bytes]) -> list[tuple[str, str]]:
    out = []
    for data in frames:
        frame = decode(data)
        if frame.kind is Kind.ERROR:
            out.append((frame.fields[0].decode(), frame.fields[1].decode()))
    return out


def test_garbage_wrong_kinds_text_and_oversized_frames_get_the_connection_closed(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay", "--idle-timeout", "30") as relay:
        async def body() -> None:
            async with honest_and_http(relay.url) as (honest, http):
                await honest.check()
                garbage = await http.ws_connect(ws_url(relay.url), max_msg_size=0)
                for i in range(20):
                    await garbage.send_bytes(os.urandom(1 + i * 37))
                got = await frames_until_closed(garbage)
                assert decode(got[0]).kind is Kind.WELCOME
                assert errors(got) and all(code == "malformed" for code, _ in errors(got))
                assert all(" " in sentence and "\n" not in sentence for _, sentence in errors(got))  # one sentence
                await honest.check()

                relay_kinds = await http.ws_connect(ws_url(relay.url))
                for _ in range(8):
                    await relay_kinds.send_bytes(encode(Kind.OK, 1))
                assert any("does not send OK" in s for _, s in errors(await frames_until_closed(relay_kinds)))

                text = await http.ws_connect(ws_url(relay.url))
                for _ in range(8):
                    await text.send_str("hello")
                await frames_until_closed(text)
                await honest.check()

                big = await http.ws_connect(ws_url(relay.url))
                with contextlib.suppress(ConnectionError):  # the relay may close it before we are done sending
                    await big.send_bytes(b"\x01\x03" + b"\0" * (2 * MIB))  # over --max-frame, never decoded
                await frames_until_closed(big)
                # 1009, or 1006 when the relay's close overtook the rest of our 2 MiB
                assert big.close_code in (aiohttp.WSCloseCode.MESSAGE_TOO_BIG, aiohttp.WSCloseCode.ABNORMAL_CLOSURE)
                await honest.check()
        run(body)


def test_a_request_flood_is_cut_off_while_the_honest_client_is_answered(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay", "--request-rate", "20") as relay:
        async def body() -> None:
            async with honest_and_http(relay.url) as (honest, http):
                flood = await http.ws_connect(ws_url(relay.url))
                get = encode(Kind.GET, 7, os.urandom(32), u64(0), u32(500))

                async def send_flood() -> None:
                    for _ in range(3000):
                        if flood.closed:
                            return
                        await flood.send_bytes(get)

                sender = asyncio.ensure_future(send_flood())
                for _ in range(10):
                    await honest.check()
                got = await frames_until_closed(flood)
                await asyncio.gather(sender, return_exceptions=True)
                assert ("rate", "too many requests; slow down") in errors(got)
                answered = sum(decode(f).kind is Kind.ENVELOPES for f in got)
                assert 0 < answered <= 200  # the burst and the rate, not 3000
                assert honest.slowest < 2.0, honest.slowest
        run(body)


def test_many_connections_from_one_address_are_refused_beyond_the_limit(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay", "--connections-per-ip", "4") as relay:
        async def body() -> None:
            async with honest_and_http(relay.url) as (honest, http):
                await honest.check()
                opened: list[aiohttp.ClientWebSocketResponse] = []
                refused: list[str] = []
                for _ in range(12):
                    try:
                        opened.append(await http.ws_connect(ws_url(relay.url)))
                    except aiohttp.WSServerHandshakeError as exc:
                        assert exc.status == 429
                        refused.append(exc.message)
                assert len(opened) == 3 and len(refused) == 9  # the honest client holds the fourth
                await honest.check()
                for ws in opened:
                    await ws.close()
                await asyncio.sleep(0.2)
                again = await http.ws_connect(ws_url(relay.url))  # freed slots are given again
                await again.close()
                await honest.check()
        run(body)


def test_without_the_auth_a_mailbox_can_be_neither_read_nor_written_and_disk_stays_under_quota(
        tmp_path: Path) -> None:
    data = tmp_path / "relay"
    quota = 2
    with RelayProcess(data, "--total-quota-mb", str(quota), "--mailbox-quota-mb", "1",
                      "--put-quota-mb", "8") as relay:
        async def body() -> None:
            honest = Honest(relay.url)
            filler = RelayClient(relay.url, timings=RelayTimings.for_tests())
            await honest.client.async_start()
            await filler.async_start()
            try:
                for _ in range(3):
                    await honest.check()
                # Reading with any other auth finds nothing; writing with it lands in another mailbox.
                for _ in range(20):
                    assert await filler.async_get(os.urandom(32), 0) == ([], 0)
                assert await filler.async_put(os.urandom(32), [honest.stored[0]]) == [1]
                # Fill the relay's disk through many mailboxes until it refuses.
                refusals: list[str] = []
                for _ in range(40):
                    try:
                        await filler.async_put(os.urandom(32), [os.urandom(64 * 1024) for _ in range(4)])
                    except RelayQuotaError as exc:
                        refusals.append(str(exc))
                assert refusals and all("\n" not in r for r in refusals)
                assert any("disk quota" in r for r in refusals), refusals[:3]
                with pytest.raises(RelayQuotaError):
                    await filler.async_put(os.urandom(32), [os.urandom(200 * 1024) for _ in range(8)])
                got, last = await honest.client.async_get(honest.auth, 0)
                assert [e for _, e in got] == honest.stored and last == 3  # the honest mailbox is intact
            finally:
                await honest.client.async_stop()
                await filler.async_stop()
        run(body)
        used = disk_bytes(data)
        assert used < (quota + 1.5) * MIB, f"the relay's data folder holds {used} bytes"
