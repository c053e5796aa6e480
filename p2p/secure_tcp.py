"""A direct TCP stream between two peers, keyed from their authenticated session, sealed with libsodium's secretstream.

The keys come from an X25519 exchange whose public halves both sides signed inside the session
(`p2p/streams.py`, `crypto_kx`); each direction has its own key and secretstream state. On the wire:

    client -> holder:  sid(16) header(24)        holder -> client:  header(24)
    then, each way:    len:u32 | secretstream ciphertext       (the first message each way is HELLO)

A connection whose stream id is not expected, or whose first message does not open, is closed: only the peer
that signed the exchange can have made it. Large messages are sealed and opened in worker threads
(`p2p/sealing.py`), into and out of buffers the kernel reads into directly (`p2p/tcp_pipe.py`).
"""

from __future__ import annotations

import asyncio
import struct

from nacl.bindings import crypto_secretstream_xchacha20poly1305_ABYTES as ABYTES
from nacl.bindings import crypto_secretstream_xchacha20poly1305_HEADERBYTES as HEADERBYTES
from nacl.bindings import crypto_secretstream_xchacha20poly1305_TAG_FINAL as TAG_FINAL

from p2p.byte_stream import StreamError
from p2p.sealing import Buffer, Opener, SealError, Sealer
from p2p.stream_frames import MAX_MESSAGE, SID_SIZE
from p2p.tcp_pipe import MessagePipe, async_connect

HELLO = b"hubbub-tcp-hello-v1"
THREAD_AT = 64 * 1024  # messages this large are sealed and opened in a worker thread, off the event loop
MAX_SEALED = MAX_MESSAGE + ABYTES
_LEN = struct.Struct(">I")


class SecureTcpStream:
    """Sealed messages both ways over one TCP connection (a `ByteStream`)."""

    route = "tcp"

    def __init__(self, peer: bytes, pipe: MessagePipe, tx_key: bytes, rx_key: bytes) -> None:
        self.peer = peer
        self._pipe = pipe
        self._sealer = Sealer(tx_key)
        self._rx_key = rx_key
        self._opener: Opener | None = None
        self._sending = asyncio.Lock()  # one message at a time: the secretstream state and the byte order agree
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed or self._pipe.closed

    @property
    def header(self) -> bytes:
        return self._sealer.header

    def start_pull(self, header: bytes) -> None:
        try:
            self._opener = Opener(self._rx_key, header)
        except SealError as exc:
            raise StreamError(str(exc)) from None
        self._pipe.start_framing()

    async def send(self, message: Buffer) -> None:
        if self.closed:
            raise StreamError("the stream is closed")
        async with self._sending:
            if len(message) >= THREAD_AT:
                sealed = await asyncio.to_thread(self._sealer.seal, message, 4)
            else:
                sealed = self._sealer.seal(message, 4)
            _LEN.pack_into(sealed, 0, len(sealed) - 4)
            try:
                await self._pipe.write(sealed)
            except ConnectionError as exc:
                self.close()
                raise StreamError(f"the stream broke ({exc})") from None

    async def recv(self) -> bytearray | None:
        if self.closed or self._opener is None:
            return None
        sealed = await self._pipe.next()
        if sealed is None:
            self.close()
            return None
        try:
            if len(sealed) >= THREAD_AT:
                message, tag = await asyncio.to_thread(self._opener.open, sealed)
            else:
                message, tag = self._opener.open(sealed)
        except SealError:
            self.close()
            raise StreamError("a stream message did not open") from None
        if tag == TAG_FINAL:
            self.close()
            return None
        return message

    def close(self, reason: str = "") -> None:
        if not self._closed:
            self._closed = True
            self._pipe.close()

    async def async_hello(self, timeout: float) -> None:
        """Send HELLO and check the peer's: the proof that it holds the key (StreamError otherwise)."""
        await self.send(HELLO)
        try:
            first = await asyncio.wait_for(self.recv(), timeout)
        except asyncio.TimeoutError:
            first = None
        if first is None or bytes(first) != HELLO:
            self.close()
            raise StreamError("the peer did not prove the stream key")


async def async_dial(host: str, port: int, peer: bytes, sid: bytes, tx_key: bytes, rx_key: bytes,
                     timeout: float) -> SecureTcpStream:
    """Connect to the holder at host:port and prove the keys both ways; StreamError if anything fails."""
    try:
        pipe = await asyncio.wait_for(async_connect(host, port, MAX_SEALED), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise StreamError(f"cannot reach {host}:{port} ({exc or 'timed out'})") from None
    stream = SecureTcpStream(peer, pipe, tx_key, rx_key)
    try:
        await pipe.write(sid + stream.header)
        header = await asyncio.wait_for(pipe.read_raw(HEADERBYTES), timeout)
        stream.start_pull(bytes(header))
        await stream.async_hello(timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        stream.close()
        raise StreamError(f"the stream to {host}:{port} did not start ({exc or 'timed out'})") from None
    except StreamError:
        stream.close()
        raise
    return stream


async def async_read_opening(pipe: MessagePipe, timeout: float) -> tuple[bytes, bytes]:
    """(stream id, the client's header) from a new inbound connection."""
    raw = await asyncio.wait_for(pipe.read_raw(SID_SIZE + HEADERBYTES), timeout)
    return bytes(raw[:SID_SIZE]), bytes(raw[SID_SIZE:])
