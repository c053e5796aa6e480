"""One client connection of the relay server, and what the frame dispatcher needs of the server (`RelayHost`)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from p2p.relay.config import RelayLimits
from p2p.relay.limits import ConnectionLimits
from p2p.relay.mailbox_store import MailboxStore
from p2p.relay.rendezvous import Rendezvous
from p2p.relay.turn import TurnConfig

log = logging.getLogger("hubbub.relay")

MAX_QUEUED_BYTES = 8 * 1024 * 1024
"""Frames waiting for one slow client, at most; past this the client is dropped."""

@dataclass(eq=False)
class Connection:
    """One client: its socket, its address, what it may still do and what waits to be sent to it."""

    ws: web.WebSocketResponse
    ip: str
    limits: ConnectionLimits
    number: int
    queue: deque[bytes] = field(default_factory=deque)
    queued: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False

    def send(self, frame: bytes) -> None:
        """Queue a frame; a client that lets too much pile up is closed."""
        if self.closing:
            return
        if self.queued + len(frame) > MAX_QUEUED_BYTES:
            log.info("conn %d: dropped, it does not read what it is sent", self.number)
            self.closing = True
            self.wake.set()
            return
        self.queue.append(frame)
        self.queued += len(frame)
        self.wake.set()



class RelayHost(Protocol):
    """The parts of `RelayServer` the dispatcher uses (so dispatch.py does not import server.py)."""

    limits: RelayLimits
    rendezvous: Rendezvous
    store: MailboxStore
    turn: TurnConfig | None
    counters: dict[str, int]

    async def in_store(self, fn: Any, *args: Any) -> Any: ...

    def notify(self, tokens: set[bytes]) -> None: ...
