"""Timings and limits of a PeerNode, gathered in one dataclass so tests can shorten them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Timings:
    """Every delay, timeout and threshold a `PeerNode` uses, in seconds unless named otherwise."""

    backoff_initial: float = 0.5
    """First delay before redialing a peer that went away or could not be reached."""
    backoff_max: float = 30.0
    """Cap of the exponential redial backoff."""
    ban_seconds: float = 600.0
    """How long a peer stays banned after too many malformed frames or a failed proof."""
    malformed_limit: int = 5
    """Malformed frames tolerated within `malformed_window` before the peer is banned."""
    malformed_window: float = 60.0
    """Sliding window over which malformed frames are counted."""
    signal_timeout: float = 5.0
    """Longest wait for one signaling frame on the TCP endpoint."""
    handshake_timeout: float = 10.0
    """From offer to authenticated session (ICE, DTLS, SCTP and the challenge-response)."""
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
            ban_seconds=2.0,
            malformed_limit=3,
            signal_timeout=3.0,
            handshake_timeout=8.0,
            keepalive_interval=0.5,
            keepalive_timeout=3.0,
            mdns_request_timeout=2.0,
        )
