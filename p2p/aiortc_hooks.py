"""What the session reaches into aiortc's internals for: SCTP timers, doubled DTLS flights, the nominated ICE pair.

Every hook degrades to aiortc's own behaviour (or "unknown") if the internals it uses moved.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection, rtcsctptransport

# aiortc's SCTP follows RFC 4960: RTO.Initial 3 s, RTO.Min 1 s. WebRTC's own SCTP stack (dcsctp,
# DcSctpOptions) starts at 500 ms with a 400 ms floor. With 3 s, every INIT or CHALLENGE lost on a
# lossy LAN costs 3 s, and at 25% loss most set-ups outlived their timeout. aiortc resends INIT at
# a fixed RTO (no backoff), so more tries keep the give-up horizon near 10 s. Per process.
rtcsctptransport.SCTP_RTO_INITIAL = 0.5
setattr(rtcsctptransport, "SCTP_RTO_MIN", 0.4)  # declared an int upstream
rtcsctptransport.SCTP_MAX_INIT_RETRANS = 20


_DTLS_HANDSHAKE = (20, 22)
"""DTLS record types change_cipher_spec and handshake (the first byte of a datagram)."""


def send_handshake_twice(pc: RTCPeerConnection) -> None:
    """Send every DTLS handshake datagram of `pc` twice.

    OpenSSL retransmits a lost DTLS flight after 1 s, then 2, 4, 8 s (a timer pyOpenSSL cannot
    set), so at 25% loss a handshake often took 10 s or more. A duplicate is discarded by DTLS
    (message_seq), costs a few hundred bytes once per session, and makes a flight 16 times less
    likely to be lost outright. Application data is never duplicated.
    """
    try:
        ice = pc.sctp.transport.transport  # type: ignore[union-attr]
        inner = ice._send
    except AttributeError:  # aiortc internals moved: keep its own behaviour
        return

    async def send(data: bytes) -> None:
        await inner(data)
        if data and data[0] in _DTLS_HANDSHAKE:
            await inner(data)

    ice._send = send


def turn_allocation_lost(pc: RTCPeerConnection) -> bool:
    """True when the nominated pair runs through our TURN allocation and aioice gave it up.

    aioice never re-allocates: once a refresh failed (or the server dropped the allocation) the
    relayed transport is closed and nothing more gets through, so the session must be rebuilt.
    """
    pair = nominated_pair(pc)
    try:
        if pair is None or pair.local_candidate.type != "relay":
            return False
        inner = getattr(pair.protocol.transport, "_TurnTransport__inner_protocol", None)
        return inner is not None and bool(inner.transport.is_closing())
    except AttributeError:  # aioice internals moved
        return False


def nominated_pair(pc: RTCPeerConnection) -> Any | None:
    """The candidate pair ICE nominated for `pc` (aioice's CandidatePair), or None before that."""
    try:
        ice = pc.sctp.transport.transport  # type: ignore[union-attr]
        return ice._connection._nominated.get(1)
    except AttributeError:  # not connected yet, or aiortc internals moved
        return None
