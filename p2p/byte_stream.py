"""What a byte stream to a peer offers, however it was made (a direct TCP stream or the `files` data channel)."""

from __future__ import annotations

from typing import Protocol

from p2p.errors import P2PError


class StreamError(P2PError):
    """A byte stream could not be opened, or broke (the peer went away, or sent bytes that do not open)."""


class ByteStream(Protocol):
    """Messages both ways, in order, with back-pressure: `send` waits while the peer is not keeping up.

    `route` says how the stream was made ("tcp" or "datachannel"), for display and metrics only.
    """

    peer: bytes
    route: str

    async def send(self, message: bytes | bytearray | memoryview) -> None:
        """Queue one message; waits while too much is queued. Raises StreamError once the stream is closed."""
        ...

    async def recv(self) -> bytes | bytearray | None:
        """The next message, or None once the stream ended."""
        ...

    def close(self, reason: str = "") -> None:
        """End the stream (idempotent); a waiting `recv` returns None."""
        ...

    @property
    def closed(self) -> bool: ...
