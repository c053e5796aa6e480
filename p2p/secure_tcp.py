"""A direct TCP stream between two peers, keyed from their authenticated session, sealed with libsodium's secretstream.

The keys come from an X25519 exchange whose public halves both sides signed inside the session
(`p2p/streams.py`, `crypto_kx`); each direction has its own key and secretstream state. On the wire:

    client -> holder:  sid(16) header(24)        holder -> client:  header(24)
    then, each way:    len:u32 | secretstream ciphertext       (the first message each way is HELLO)

A connection whose stream id is not expected, or whose first message does not open, is closed: only the peer
that signed the exchange can have made it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_ABYTES as ABYTES,
    crypto_secretstream_xchacha20poly1305_HEADERBYTES as HEADERBYTES,
    crypto_secretstream_xchacha20poly1305_TAG_FINAL as TAG_FINAL,
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
)
from nacl.exceptions import CryptoError

from p2p.byte_stream import StreamError
from p2p.stream_frames import MAX_MESSAGE, SID_SIZE

HELLO = b"hubbub-tcp-hello-v1"
READ_LIMIT = 8 << 20
WRITE_HIGH = 4 << 20
SOCKET_BUFFER = 4 << 20
_LEN = struct.Struct(">I")


class SecureTcpStream:
    """One direction-keyed secretstream over an asyncio TCP connection (a `ByteStream`)."""

    route = "tcp"

    def __init__(self, peer: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tx_key: bytes,
                 rx_key: bytes) -> None:
        self.peer = peer
        self._reader = reader
        self._writer = writer
        self._tx = crypto_secretstream_xchacha20poly1305_state()
        self._rx = crypto_secretstream_xchacha20poly1305_state()
        self._tx_header = crypto_secretstream_xchacha20poly1305_init_push(self._tx, tx_key)
        self._rx_key = rx_key
        self._closed = False
        tune(writer)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def header(self) -> bytes:
        return self._tx_header

    def start_pull(self, header: bytes) -> None:
        try:
            crypto_secretstream_xchacha20poly1305_init_pull(self._rx, header, self._rx_key)
        except (CryptoError, ValueError, TypeError) as exc:
            raise StreamError(f"bad stream header ({exc})") from None

    async def send(self, message: bytes) -> None:
        if self._closed:
            raise StreamError("the stream is closed")
        sealed = crypto_secretstream_xchacha20poly1305_push(self._tx, message)
        try:
            self._writer.write(_LEN.pack(len(sealed)))
            self._writer.write(sealed)
            await self._writer.drain()
        except (ConnectionError, OSError, RuntimeError) as exc:
            self.close()
            raise StreamError(f"the stream broke ({exc})") from None

    async def recv(self) -> bytes | None:
        if self._closed:
            return None
        try:
            head = await self._reader.readexactly(4)
            length = _LEN.unpack(head)[0]
            if length > MAX_MESSAGE + ABYTES or length < ABYTES:
                raise StreamError("stream message has a bad length")
            sealed = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.close()
            return None
        try:
            message, tag = crypto_secretstream_xchacha20poly1305_pull(self._rx, sealed)
        except (CryptoError, ValueError, TypeError):
            self.close()
            raise StreamError("a stream message did not open") from None
        if tag == TAG_FINAL:
            self.close()
            return None
        return bytes(message)

    def close(self, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._writer.close()

    async def async_hello(self, timeout: float) -> None:
        """Send HELLO and check the peer's: the proof that it holds the key (StreamError otherwise)."""
        await self.send(HELLO)
        try:
            first = await asyncio.wait_for(self.recv(), timeout)
        except asyncio.TimeoutError:
            first = None
        if first != HELLO:
            self.close()
            raise StreamError("the peer did not prove the stream key")


def tune(writer: asyncio.StreamWriter) -> None:
    """Large buffers and no Nagle delay: bulk data, and requests that must not wait."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
    transport = writer.transport
    with contextlib.suppress(Exception):
        transport.set_write_buffer_limits(high=WRITE_HIGH)


async def async_dial(host: str, port: int, peer: bytes, sid: bytes, tx_key: bytes, rx_key: bytes,
                     timeout: float) -> SecureTcpStream:
    """Connect to the holder at host:port and prove the keys both ways; StreamError if anything fails."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=READ_LIMIT), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise StreamError(f"cannot reach {host}:{port} ({exc or 'timed out'})") from None
    stream = SecureTcpStream(peer, reader, writer, tx_key, rx_key)
    try:
        writer.write(sid + stream.header)
        header = await asyncio.wait_for(reader.readexactly(HEADERBYTES), timeout)
        stream.start_pull(header)
        await stream.async_hello(timeout)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
        stream.close()
        raise StreamError(f"the stream to {host}:{port} did not start ({exc or 'timed out'})") from None
    except StreamError:
        stream.close()
        raise
    return stream


async def async_read_opening(reader: asyncio.StreamReader, timeout: float) -> tuple[bytes, bytes]:
    """(stream id, the client's header) from a new inbound connection."""
    raw = await asyncio.wait_for(reader.readexactly(SID_SIZE + HEADERBYTES), timeout)
    return raw[:SID_SIZE], raw[SID_SIZE:]
