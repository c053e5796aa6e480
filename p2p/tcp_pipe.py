"""Length-prefixed messages on a TCP connection, each read by the kernel straight into a buffer of its own
(`asyncio.BufferedProtocol`): no copies in between, and reading pauses while `QUEUE` messages wait unread.

    pipe.read_raw(n)     the first bytes of a connection, before framing starts (a handshake)
    pipe.start_framing() then: len:u32 | message, repeatedly
    await pipe.next()    the next message (a bytearray), or None at the end
    await pipe.write()   queue bytes; waits while the transport's buffer is above its high mark
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import deque
from collections.abc import Callable

QUEUE = 8
SOCKET_BUFFER = 4 << 20
WRITE_HIGH = 4 << 20
_LEN = struct.Struct(">I")


class PipeError(ConnectionError):
    """The peer broke the framing (a message over the cap)."""


class MessagePipe(asyncio.BufferedProtocol):
    """One connection's framing and flow control; `on_open(pipe)` is called once connected."""

    def __init__(self, max_message: int, on_open: Callable[[MessagePipe], None] | None = None) -> None:
        self.max_message = max_message
        self._on_open = on_open
        self.transport: asyncio.Transport | None = None
        self._target = bytearray(0)
        self._filled = 0
        self._mode = ""  # "" (no reader: paused), "raw", "len", "body"
        self._framing = False
        self._raw: asyncio.Future[bytearray] | None = None
        self._messages: deque[bytearray] = deque()
        self._arrived = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._paused = False
        self.closed = False
        self.error: str = ""

    # ----- asyncio.BufferedProtocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        transport.set_write_buffer_limits(high=WRITE_HIGH)
        self._pause()
        if self._on_open is not None:
            self._on_open(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self._target)[self._filled:]

    def buffer_updated(self, nbytes: int) -> None:
        self._filled += nbytes
        if self._filled < len(self._target):
            return
        if self._mode == "raw":
            done, self._raw, got = self._raw, None, self._target
            self._expect("", 0)
            if done is not None and not done.done():
                done.set_result(got)
        elif self._mode == "len":
            length = _LEN.unpack(self._target)[0]
            if length > self.max_message:
                self.error = "a message over the size cap"
                self.close()
                return
            self._expect("body", length)
            if length == 0:
                self.buffer_updated(0)
        elif self._mode == "body":
            self._messages.append(self._target)
            self._arrived.set()
            self._expect("len", 4)

    def eof_received(self) -> bool | None:
        self._ended()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # ----- reading ---------------------------------------------------------------------------

    def _expect(self, mode: str, size: int) -> None:
        self._mode = mode
        self._target = bytearray(size)
        self._filled = 0
        if mode == "" or (mode == "len" and len(self._messages) >= QUEUE):
            self._pause()
        else:
            self._resume()

    def _pause(self) -> None:
        if not self._paused and self.transport is not None and not self.closed:
            self._paused = True
            with contextlib.suppress(Exception):
                self.transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            with contextlib.suppress(Exception):
                self.transport.resume_reading()

    async def read_raw(self, n: int) -> bytearray:
        """Exactly `n` bytes (before framing starts); ConnectionError if the connection ends first."""
        if self.closed:
            raise ConnectionError("the connection ended")
        self._raw = asyncio.get_running_loop().create_future()
        self._expect("raw", n)
        return await self._raw

    def start_framing(self) -> None:
        self._framing = True
        self._expect("len", 4)

    async def next(self) -> bytearray | None:
        """The next message, or None once the connection ended."""
        while not self._messages:
            if self.closed:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        message = self._messages.popleft()
        if self._mode == "len" and self._paused and len(self._messages) < QUEUE:
            self._resume()
        return message

    # ----- writing ---------------------------------------------------------------------------

    async def write(self, *parts: bytes | bytearray | memoryview) -> None:
        if self.closed or self.transport is None:
            raise ConnectionError(self.error or "the connection ended")
        for part in parts:
            self.transport.write(part)
        if not self._writable.is_set():
            await self._writable.wait()
            if self.closed:
                raise ConnectionError(self.error or "the connection ended")

    def close(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self.transport.close()
        self._ended()

    def _ended(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._arrived.set()
        self._writable.set()
        if self._raw is not None and not self._raw.done():
            self._raw.set_exception(ConnectionError("the connection ended"))


async def async_connect(host: str, port: int, max_message: int) -> MessagePipe:
    loop = asyncio.get_running_loop()
    _transport, pipe = await loop.create_connection(lambda: MessagePipe(max_message), host, port)
    return pipe


async def async_listen(host: str, max_message: int, on_open: Callable[[MessagePipe], None]) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: MessagePipe(max_message, on_open), host, 0)
