"""A byte stream carried on the `files` data channel: the fallback when no direct TCP connection can be made.

Messages are cut into fragments of at most 60 KiB. The receiver grants credit as it reads (a window of
`WINDOW` bytes), so a slow reader never makes the other side's messages pile up in memory; the sender also
waits while the channel's `bufferedAmount` is high.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from p2p.byte_stream import StreamError
from p2p.errors import P2PError
from p2p.stream_frames import MAX_FRAGMENT, MAX_MESSAGE, Close, Credit, Data, StreamFrame, encode

WINDOW = 4 << 20
HIGH_WATER = 1 << 20
Send = Callable[[bytes], None]          # puts one files-channel message on the wire (raises P2PError)
Buffered = Callable[[], int]            # bytes queued on the channel


class DataChannelStream:
    """One stream multiplexed on the files channel by its stream id (a `ByteStream`)."""

    route = "datachannel"

    def __init__(self, peer: bytes, sid: bytes, send: Send, buffered: Buffered,
                 on_closed: Callable[[bytes], None] | None = None) -> None:
        self.peer = peer
        self.sid = sid
        self._send = send
        self._buffered = buffered
        self._on_closed = on_closed
        self._credit = WINDOW
        self._credit_event = asyncio.Event()
        self._inbox: deque[bytes | None] = deque()
        self._inbox_event = asyncio.Event()
        self._partial = bytearray()
        self._unacked = 0
        self._closed = False
        self.error = ""

    @property
    def closed(self) -> bool:
        return self._closed

    def _put(self, frame: StreamFrame) -> None:
        self._send(encode(frame))

    async def send(self, message: bytes | bytearray | memoryview) -> None:
        if len(message) > MAX_MESSAGE:
            raise StreamError("stream message is too large")
        view = memoryview(message)
        first = True
        while first or view:
            first = False
            fragment, view = view[:MAX_FRAGMENT], view[MAX_FRAGMENT:]
            while self._credit < len(fragment) and not self._closed:
                self._credit_event.clear()
                await self._credit_event.wait()
            while not self._closed:
                try:
                    if self._buffered() <= HIGH_WATER:
                        break
                except P2PError:
                    self.close("the session ended")
                    break
                await asyncio.sleep(0.002)
            if self._closed:
                raise StreamError(self.error or "the stream is closed")
            try:
                self._put(Data(self.sid, bool(view), bytes(fragment)))
            except (P2PError, ValueError) as exc:
                self.close("the session ended")
                raise StreamError(f"the stream broke ({exc})") from None
            self._credit -= len(fragment)

    async def recv(self) -> bytes | None:
        while not self._inbox:
            if self._closed:
                return None
            self._inbox_event.clear()
            await self._inbox_event.wait()
        message = self._inbox.popleft()
        if message is None:
            return None
        self._unacked += len(message)
        if self._unacked >= WINDOW // 4 and not self._closed:
            with contextlib.suppress(P2PError, ValueError):
                self._put(Credit(self.sid, self._unacked))
            self._unacked = 0
        return message

    def close(self, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        self.error = reason
        with contextlib.suppress(P2PError, ValueError):
            self._put(Close(self.sid, reason))
        self._ended()

    def _ended(self) -> None:
        self._closed = True
        self._inbox.append(None)
        self._inbox_event.set()
        self._credit_event.set()
        if self._on_closed is not None:
            self._on_closed(self.sid)

    # ----- what the files channel brings ---------------------------------------------------

    def on_data(self, frame: Data) -> bool:
        """A fragment arrived; False if the peer broke the rules (the stream is then closed)."""
        if self._closed:
            return True
        pending = sum(len(m) for m in self._inbox if m is not None)
        if len(self._partial) + len(frame.data) > MAX_MESSAGE or pending + len(frame.data) > WINDOW + MAX_MESSAGE:
            self.close("sent more than it was given credit for")
            return False
        self._partial += frame.data
        if not frame.more:
            self._inbox.append(bytes(self._partial))
            self._partial.clear()
            self._inbox_event.set()
        return True

    def on_credit(self, frame: Credit) -> None:
        self._credit = min(self._credit + frame.amount, WINDOW)
        self._credit_event.set()

    def on_close(self, frame: Close) -> None:
        if not self._closed:
            self.error = frame.reason or "the peer closed the stream"
            self._ended()
