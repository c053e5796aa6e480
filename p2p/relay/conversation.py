"""A signaling conversation through a relay: frames sealed under the token's key, numbered, one direction bit.

    sealed payload = envelope.seal(seal key, conversation id (8) | direction (1) | op (1) | number (u32) | frame)

`direction` is 0 for what the dialer sends and 1 for the listener; `op` is OPEN (the dialer's first
message, empty), DATA (one signaling frame) or CLOSE. Numbers start at 0 in each direction and
must arrive in order: a frame the relay dropped, reordered or replayed ends the conversation
with a `FrameError`, and a frame it altered does not open (`p2p.relay.envelope`). The relay sees
only sizes in buckets.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

from p2p.errors import FrameError
from p2p.frames import MAX_SIGNAL_FRAME_SIZE, Frame, decode_frame
from p2p.relay.envelope import OVERHEAD, seal
from p2p.relay.wire import MAX_PAYLOAD
from p2p.routes import Route

HEADER = struct.Struct(">8sBBI")
OPEN, DATA, CLOSE = 1, 2, 3
DIALER, LISTENER = 0, 1
MAX_FRAME = min(MAX_SIGNAL_FRAME_SIZE, MAX_PAYLOAD - OVERHEAD - HEADER.size)
"""Largest signaling frame a relay conversation carries."""
MAX_QUEUED = 16
"""Frames received but not yet read, at most (a signaling conversation has five)."""


class RelayConversation:
    """One signaling conversation with one peer handle under one token (a `routes.Conversation`)."""

    route: Route = "direct"

    def __init__(self, path: str, token: bytes, handle: bytes, conv_id: bytes, direction: int,
                 key: bytes, send: Callable[[bytes, bytes, bytes], bool], done: Callable[[RelayConversation], None]) -> None:
        self.path = path
        self.source = f"{path}:{handle.hex()}"
        self.token = token
        self.handle = handle
        self.conv_id = conv_id
        self.direction = direction
        self._key = key
        self._send = send
        self._done = done
        self._out = 0
        self._in = 0
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._failure = ""
        self.closed = False

    def send(self, frame: bytes) -> None:
        self._post(DATA, frame)

    def open(self) -> None:
        """The dialer's first message: it makes the listener start (with HELLO)."""
        self._post(OPEN, b"")

    async def async_flush(self) -> None:
        if self._failure:
            raise FrameError(self._failure)

    async def async_receive(self, timeout: float) -> Frame:
        try:
            data = await asyncio.wait_for(self._inbox.get(), timeout)
        except asyncio.TimeoutError:
            raise FrameError("timed out waiting for a signaling frame through the relay") from None
        if data is None:
            raise FrameError(self._failure or "the conversation through the relay was closed")
        return decode_frame(data, max_size=MAX_SIGNAL_FRAME_SIZE)

    async def async_close(self) -> None:
        if not self.closed:
            self._post(CLOSE, b"")
            self._end("closed")

    # -- from the route --------------------------------------------------------------------------
    def received(self, direction: int, op: int, number: int, body: bytes) -> None:
        """A message of this conversation opened under its key; checks direction and order."""
        if self.closed:
            return
        if direction == self.direction:
            self._fail("the relay reflected our own frame")
        elif number != self._in:
            self._fail("the relay dropped, reordered or replayed a frame")
        elif op == CLOSE:
            self._end("the peer closed the conversation")
        elif op != DATA or self._inbox.qsize() >= MAX_QUEUED:
            self._fail("unexpected message in a relayed conversation")
        else:
            self._in += 1
            self._inbox.put_nowait(body)

    def accepted_open(self) -> None:
        """The listener side was made from the dialer's OPEN, number 0."""
        self._in = 1

    def fail(self, reason: str) -> None:
        self._fail(reason)

    def _post(self, op: int, body: bytes) -> None:
        if self.closed:
            return
        if len(body) > MAX_FRAME:
            raise FrameError(f"a signaling frame of {len(body)} bytes is too big for the relay")
        plain = HEADER.pack(self.conv_id, self.direction, op, self._out) + body
        self._out += 1
        if not self._send(self.token, self.handle, seal(self._key, plain)):
            self._fail("the relay connection is down")

    def _fail(self, reason: str) -> None:
        if not self._failure:
            self._failure = reason
        self._end(reason)

    def _end(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if not self._failure:
            self._failure = reason
        self._inbox.put_nowait(None)
        self._done(self)
