"""Timings and limits of a PeerNode, gathered in two dataclasses so tests can shorten or tighten them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Timings:
    """Every delay, timeout and threshold a `PeerNode` uses, in seconds unless named otherwise."""

    backoff_initial: float = 0.5
    """First delay before redialing a peer that went away or could not be reached."""
    backoff_max: float = 30.0
    """Cap of the exponential redial backoff."""
    passive_dial_delay: float = 30.0
    """A passive target (the other side dials, by the LAN rule) dials only when our rooms change,
    or after this long without a session."""
    ban_seconds: float = 600.0
    """How long a peer stays banned after too many malformed frames or a failed proof."""
    malformed_limit: int = 5
    """Malformed frames tolerated within `malformed_window` before the peer is banned."""
    malformed_window: float = 60.0
    """Sliding window over which malformed frames are counted."""
    signal_timeout: float = 5.0
    """Longest wait for one signaling frame (and for a signaling connection to open)."""
    handshake_timeout: float = 10.0
    """From offer to authenticated session (ICE, DTLS, SCTP and the challenge-response), for a peer
    that proved a shared room before the session was built."""
    stranger_handshake_timeout: float = 3.0
    """The same for a peer that proved no room (a stranger): half-open sessions of strangers are
    the flood's currency, so they get little time."""
    keepalive_interval: float = 2.0
    """How often a session sends a ping on its control channel."""
    keepalive_timeout: float = 8.0
    """A session that received nothing for this long is declared dead."""
    mdns_request_timeout: float = 3.0
    """Longest wait to resolve one mDNS service into addresses and TXT records."""

    @classmethod
    def for_tests(cls) -> Timings:
        """Short timings for loopback and namespace tests."""
        return cls(
            backoff_initial=0.1,
            backoff_max=1.0,
            passive_dial_delay=5.0,
            ban_seconds=2.0,
            malformed_limit=3,
            signal_timeout=3.0,
            handshake_timeout=8.0,
            stranger_handshake_timeout=2.0,
            keepalive_interval=0.5,
            keepalive_timeout=3.0,
            mdns_request_timeout=2.0,
        )


@dataclass
class Limits:
    """What a node spends at most on peers it cannot yet trust: table sizes, rates and caps.

    Every table fed from the network is bounded here; see docs/p2p.md ("A hostile LAN").
    """

    max_hints: int = 256
    """Discovery hints kept (all sources); the least recently seen unpinned hint goes first."""
    max_hints_per_host: int = 8
    """Hints kept per announcing host: one machine announcing thousands of names gets this many."""
    max_candidates: int = 4
    """Addresses kept per node id (a later announcement adds one, never replaces a working one)."""
    max_targets: int = 64
    """Dial targets found by discovery (explicit `async_connect` targets are not counted)."""
    max_resolves: int = 4
    """Concurrent discovery look-ups (an mDNS query for a service not yet in the cache)."""
    resolve_queue: int = 64
    """Look-ups waiting for a free slot; the oldest is dropped when it is full."""
    max_public_rooms: int = 128
    """Public-room announcements kept; per host at most `max_hints_per_host` of them."""
    dial_rate: float = 5.0
    """Dial budget: dials per second, all targets together (a token bucket)..."""
    dial_burst: int = 10
    """...holding at most this many tokens."""
    max_dials: int = 4
    """Dials in flight at once (and one per host)."""
    max_conversations: int = 64
    """Inbound signaling conversations open at once; more are closed on arrival."""
    conversations_per_source: int = 16
    """The same per source address."""
    conversation_rate_per_source: float = 50.0
    """New inbound conversations per second from one source address (burst twice that)."""
    max_half_open_members: int = 32
    """Sessions being set up for peers that proved a shared room before the session was built."""
    max_half_open_strangers: int = 4
    """Sessions being set up for peers that proved no room."""
    half_open_per_source: int = 8
    """Half-open sessions per source address, both lanes together."""
    stranger_rate: float = 2.0
    """Sessions built per second for strangers, all sources together (a token bucket)..."""
    stranger_burst: int = 6
    """...holding at most this many tokens."""
    stranger_rate_per_source: float = 0.5
    """Sessions built per second for strangers from one source address (burst 3)."""
    max_stranger_sessions: int = 32
    """Authenticated sessions admitted as strangers, alive at once."""
    max_sources: int = 1024
    """Per-source counters kept; the least recently used source is forgotten first."""
