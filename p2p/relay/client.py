"""RelayClient: a node's one long-lived WebSocket connection to one relay, reconnecting with backoff."""

from __future__ import annotations

from collections.abc import Callable

from p2p.relay.config import RelayTimings
from p2p.relay.parse import parse_relay_url
from p2p.routes import IceServer


class RelayClient:
    """One node's connection to one relay: rendezvous tokens, forwarded signaling, mailbox and TURN.

    Every request raises `RelayUnavailable` when there is no connection (it waits up to
    `timings.connect_timeout` for one first), `RelayQuotaError` when the relay refused it for a
    limit, and `RelayError` for any other refusal; each message is one sentence.
    """

    def __init__(self, url: str, *, timings: RelayTimings | None = None) -> None:
        """`url` is a relay address (`RelayError` if it is not one); nothing connects before `async_start`."""
        self.address = parse_relay_url(url)
        self.url: str = self.address.url
        """The canonical relay address."""
        self.timings = timings or RelayTimings()
        self.last_error = ""
        """Why the connection is down (one sentence), or "" while connected."""

    @property
    def connected(self) -> bool:
        """True while the WebSocket to the relay is open."""
        raise NotImplementedError

    async def async_start(self) -> None:
        """Start connecting; returns at once and keeps reconnecting with backoff until `async_stop`."""
        raise NotImplementedError

    async def async_stop(self) -> None:
        """Close the connection and stop reconnecting; never raises."""
        raise NotImplementedError

    async def async_wait_connected(self, timeout: float) -> None:
        """Wait until connected; `RelayUnavailable` after `timeout` seconds."""
        raise NotImplementedError

    def on_connected(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after every connect and reconnect (pull the mailbox, push what is unacked)."""
        raise NotImplementedError

    async def async_turn_servers(self) -> list[IceServer]:
        """TURN servers with fresh credentials from the relay (UDP first, then TCP, then TLS); [] without TURN."""
        raise NotImplementedError

    async def async_put(self, auth: bytes, envelopes: list[bytes]) -> list[int]:
        """Store `envelopes` in the mailbox named by `auth` (32 bytes); returns their sequence numbers.

        Returns only after the relay's fsync; a duplicate envelope gets its earlier number. Big
        batches are split into several acknowledged requests, in order.
        """
        raise NotImplementedError

    async def async_get(self, auth: bytes, after: int, limit: int = 500) -> tuple[list[tuple[int, bytes]], int]:
        """Envelopes of the mailbox `auth` with sequence numbers above `after` (at most `limit`, oldest
        first), and the mailbox's last sequence number (0 when empty)."""
        raise NotImplementedError

    def subscribe(self, tokens: dict[bytes, bytes]) -> None:
        """Meet peers under exactly these rendezvous tokens (16 bytes) -> seal keys (32 bytes).

        Replaces the previous set; sent at once when connected, again after every reconnect and
        every `timings.resubscribe_interval`.
        """
        raise NotImplementedError
