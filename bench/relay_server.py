"""`bench relay`, the relay server itself: a real `python -m p2p.relay.serve` on loopback (no mDNS, no root).

- `relay_rss_mb`: its resident memory holding 1000 mailboxes (one 1 KiB envelope each) with 200
  connected clients, each subscribed under a token it shares with one other (`--quick`: 100 / 40);
  floor `relay_idle_rss_mb`, the same process just started;
- `relay_cpu_ms_per_forward`: the relay's CPU time (user + system, from /proc) per forwarded 1 KiB
  sealed payload while the 100 pairs forward 5000 payloads (`--quick`: 400), minus its CPU over
  as long a time idle with the same clients connected (`relay_idle_cpu_ms_per_s`).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import aiohttp

from p2p.relay.wire import Kind, decode, encode
from tests.integration.relay_proc import RelayProcess

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Client:
    """One raw WebSocket client: it subscribes one token and learns its partner's handle."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, token: bytes) -> None:
        self.ws = ws
        self.token = token
        self.partner: bytes | None = None
        self.delivered = 0
        self.partnered = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.BINARY:
                continue
            frame = decode(msg.data)
            if frame.kind is Kind.PEERS and frame.items:
                self.partner = frame.items[0]
                self.partnered.set()
            elif frame.kind is Kind.DELIVER:
                self.delivered += 1


async def _async_measure(url: str, pid: int, clients: int, mailboxes: int, forwards: int) -> dict[str, float]:
    out: dict[str, float] = {"relay_idle_rss_mb": _rss_mb(pid)}
    ws_url = "ws://" + url.removeprefix("hubbub-relay://") + "/"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:  # one socket per client
        writer = await http.ws_connect(ws_url, max_msg_size=0)
        await writer.receive()  # WELCOME
        for start in range(0, mailboxes, 50):
            for index in range(start, min(mailboxes, start + 50)):
                await writer.send_bytes(encode(Kind.PUT, index + 1, os.urandom(32), items=[os.urandom(1024)]))
            for _ in range(start, min(mailboxes, start + 50)):
                assert decode((await writer.receive()).data).kind is Kind.STORED
        tokens = [os.urandom(16) for _ in range(clients // 2)]
        pool: list[Client] = []
        for index in range(clients):
            ws = await http.ws_connect(ws_url)
            client = Client(ws, tokens[index // 2])
            await ws.send_bytes(encode(Kind.SUBSCRIBE, 1, items=[client.token]))
            pool.append(client)
        await asyncio.wait_for(asyncio.gather(*(c.partnered.wait() for c in pool)), 60)
        await asyncio.sleep(1.0)
        out["relay_rss_mb"] = _rss_mb(pid)
        out["relay_clients"] = float(clients)
        out["relay_mailboxes"] = float(mailboxes)

        idle_started, idle_cpu = time.monotonic(), _cpu_s(pid)
        await asyncio.sleep(2.0)
        idle_rate = (_cpu_s(pid) - idle_cpu) / (time.monotonic() - idle_started)
        senders = pool[0::2]
        per_sender = max(1, forwards // len(senders))
        payload = os.urandom(1024)
        started, cpu = time.monotonic(), _cpu_s(pid)
        for _ in range(per_sender):
            for sender in senders:
                assert sender.partner is not None
                await sender.ws.send_bytes(encode(Kind.FORWARD, 0, sender.token, sender.partner, payload))
        receivers = pool[1::2]
        total = per_sender * len(senders)
        deadline = time.monotonic() + 60
        while sum(r.delivered for r in receivers) < total and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        elapsed, busy = time.monotonic() - started, _cpu_s(pid) - cpu
        delivered = sum(r.delivered for r in receivers)
        out["relay_forwards"] = float(delivered)
        out["relay_cpu_ms_per_forward"] = max(0.0, busy - idle_rate * elapsed) * 1000 / max(1, delivered)
        out["relay_idle_cpu_ms_per_s"] = idle_rate * 1000
        out["relay_forwards_per_s"] = delivered / elapsed
        for client in pool:
            await client.ws.close()
            client.reader.cancel()
        await writer.close()
    return out


def run(quick: bool = False) -> dict[str, float]:
    clients, mailboxes, forwards = (40, 100, 400) if quick else (200, 1000, 5000)
    data = Path(tempfile.mkdtemp(prefix="hubbub-bench-relay-server-")) / "relay"
    limits = ["--connections-per-ip", str(clients + 10), "--request-rate", "100000"]
    with RelayProcess(data, *limits) as relay:
        assert relay.proc is not None
        return asyncio.run(_async_measure(relay.url, relay.proc.pid, clients, mailboxes, forwards))
