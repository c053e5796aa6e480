"""Timings of a relay client and limits of a relay server, as dataclasses tests can shorten or tighten."""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86400.0
MIB = 1024 * 1024


@dataclass
class RelayTimings:
    """Every delay and timeout of a `RelayClient`, in seconds."""

    connect_timeout: float = 10.0
    """Longest wait for the WebSocket to open."""
    request_timeout: float = 15.0
    """Longest wait for the relay to answer one request (a put, a get, TURN credentials)."""
    backoff_initial: float = 0.5
    """First delay before reconnecting after the connection was lost or refused."""
    backoff_max: float = 60.0
    """Cap of the exponential reconnect backoff (with ±20% jitter)."""
    resubscribe_interval: float = 1800.0
    """How often the current tokens are sent again (the relay drops a token not renewed in 2 h)."""
    heartbeat: float = 20.0
    """WebSocket ping interval; a connection silent for twice this long is dropped and redialed."""

    @classmethod
    def for_tests(cls) -> RelayTimings:
        """Short timings for loopback and namespace tests."""
        return cls(connect_timeout=3.0, request_timeout=5.0, backoff_initial=0.05, backoff_max=0.5,
                   resubscribe_interval=5.0, heartbeat=2.0)


@dataclass
class RelayLimits:
    """What the relay server spends at most on anyone: every table, rate and quota (`hubbub relay serve --help`)."""

    max_frame: int = 1 * MIB + 4096
    """Largest WebSocket message accepted; larger ones close the connection before they are read."""
    max_connections: int = 1000
    """Connections open at once, all clients together."""
    connections_per_ip: int = 8
    """Connections open at once from one IP address."""
    request_rate: float = 50.0
    """Requests per second per connection (a token bucket)..."""
    request_burst: int = 100
    """...holding at most this many."""
    forward_bytes_rate: float = 256 * 1024.0
    """Forwarded signaling bytes per second per connection (burst four times that)."""
    max_subscriptions: int = 64
    """Tokens one connection may subscribe at once."""
    max_subscribers: int = 64
    """Connections subscribed to one token (more are refused)."""
    subscription_ttl: float = 2 * 3600.0
    """A subscription not renewed for this long expires."""
    token_max_age: float = 4 * 3600.0
    """A token one connection has held for this long stopped rotating: it expires even if renewed."""
    mailbox_quota: int = 64 * MIB
    """Bytes one mailbox may hold."""
    put_quota_per_hour: int = 64 * MIB
    """Bytes one connection may put per hour (all mailboxes together)."""
    total_quota: int = 4096 * MIB
    """Bytes all mailboxes together may hold: the relay's disk budget."""
    retention: float = 30 * DAY
    """Envelopes older than this are deleted by the sweep."""
    sweep_interval: float = 3600.0
    """How often the retention sweep runs."""
    max_batch: int = 256
    """Envelopes in one put, and at most returned by one get."""
    turn_rate: float = 1 / 60
    """TURN credential requests per second per connection (burst `turn_burst`)."""
    turn_burst: int = 5
    """...holding at most this many."""
    turn_ttl: float = 3600.0
    """Lifetime of the TURN credentials handed out."""
    idle_timeout: float = 120.0
    """A connection that sends nothing (not even a WebSocket ping) for this long is closed."""
