"""Messages on the `files` channel that set up byte streams between two peers, and carry them when TCP cannot.

    OPEN      sid(16) eph(32) sig(64)                      client -> holder: a stream, please
    ACCEPT    sid(16) eph(32) port:u16 n:u8 addr* sig(64)  holder -> client: here is where to dial (port 0: no TCP)
    REFUSE    sid(16) reason                               holder -> client: no
    FALLBACK  sid(16)                                      client -> holder: TCP failed, carry it on this channel
    DATA      sid(16) more:u8 bytes                        one fragment of a stream message (data channel route)
    CREDIT    sid(16) bytes:u32                            the receiver read this much more (data channel route)
    CLOSE     sid(16) reason                               either side: the stream is over

`addr` is `len:u8 ascii`. The signatures (Ed25519, by each side's identity key) bind the ephemeral X25519 keys to
both identities and the stream id, so the TCP stream keyed from them belongs to the authenticated session.
`decode` raises `StreamFrameError` and nothing else.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from p2p.errors import P2PError

OPEN, ACCEPT, REFUSE, FALLBACK, DATA, CREDIT, CLOSE = range(1, 8)
SID_SIZE = 16
EPH_SIZE = 32
SIG_SIZE = 64
MAX_ADDRS = 8
MAX_REASON = 200
MAX_FRAGMENT = 60 * 1024
MAX_MESSAGE = 2 << 20  # largest stream message (a chunk frame is about 1 MiB)


class StreamFrameError(P2PError):
    """A stream set-up message that does not decode."""


@dataclass(frozen=True, slots=True)
class Open:
    sid: bytes
    eph: bytes
    sig: bytes


@dataclass(frozen=True, slots=True)
class Accept:
    sid: bytes
    eph: bytes
    port: int
    addrs: tuple[str, ...]
    sig: bytes


@dataclass(frozen=True, slots=True)
class Refuse:
    sid: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class Fallback:
    sid: bytes


@dataclass(frozen=True, slots=True)
class Data:
    sid: bytes
    more: bool
    data: bytes


@dataclass(frozen=True, slots=True)
class Credit:
    sid: bytes
    amount: int


@dataclass(frozen=True, slots=True)
class Close:
    sid: bytes
    reason: str


StreamFrame = Open | Accept | Refuse | Fallback | Data | Credit | Close


def open_transcript(client: bytes, holder: bytes, sid: bytes, eph: bytes) -> bytes:
    return b"hubbub-stream-open-v1\0" + client + holder + sid + eph


def accept_transcript(holder: bytes, client: bytes, sid: bytes, eph: bytes, port: int, addrs: tuple[str, ...]) -> bytes:
    return b"hubbub-stream-accept-v1\0" + holder + client + sid + eph + _addr_block(port, addrs)


def _addr_block(port: int, addrs: tuple[str, ...]) -> bytes:
    out = bytearray(struct.pack(">HB", port, len(addrs)))
    for a in addrs:
        raw = a.encode("ascii")
        out.append(len(raw))
        out += raw
    return bytes(out)


def _reason(text: str) -> bytes:
    return text.encode("utf-8")[:MAX_REASON]


def encode(frame: StreamFrame) -> bytes:
    if isinstance(frame, Open):
        return bytes((OPEN,)) + frame.sid + frame.eph + frame.sig
    if isinstance(frame, Accept):
        return bytes((ACCEPT,)) + frame.sid + frame.eph + _addr_block(frame.port, frame.addrs) + frame.sig
    if isinstance(frame, Refuse):
        return bytes((REFUSE,)) + frame.sid + _reason(frame.reason)
    if isinstance(frame, Fallback):
        return bytes((FALLBACK,)) + frame.sid
    if isinstance(frame, Data):
        return b"".join((bytes((DATA,)), frame.sid, bytes((int(frame.more),)), frame.data))
    if isinstance(frame, Credit):
        return bytes((CREDIT,)) + frame.sid + struct.pack(">I", frame.amount)
    return bytes((CLOSE,)) + frame.sid + _reason(frame.reason)


def decode(data: bytes) -> StreamFrame:
    """One message; raises StreamFrameError for anything else."""
    try:
        return _decode(data)
    except StreamFrameError:
        raise
    except Exception as exc:  # the decoder's promise: nothing else escapes
        raise StreamFrameError(f"malformed stream message ({type(exc).__name__})") from None


def _text(raw: bytes) -> str:
    if len(raw) > MAX_REASON:
        raise StreamFrameError("reason is too long")
    return raw.decode("utf-8", errors="replace")


def _decode(data: bytes) -> StreamFrame:
    if not isinstance(data, bytes) or len(data) < 1 + SID_SIZE:
        raise StreamFrameError("stream message is too short")
    if len(data) > 1 + SID_SIZE + 1 + MAX_FRAGMENT:
        raise StreamFrameError("stream message is too large")
    kind, sid, rest = data[0], data[1:1 + SID_SIZE], data[1 + SID_SIZE:]
    if kind == OPEN:
        if len(rest) != EPH_SIZE + SIG_SIZE:
            raise StreamFrameError("open has the wrong size")
        return Open(sid, rest[:EPH_SIZE], rest[EPH_SIZE:])
    if kind == ACCEPT:
        if len(rest) < EPH_SIZE + 3 + SIG_SIZE:
            raise StreamFrameError("accept is truncated")
        eph, body, sig = rest[:EPH_SIZE], rest[EPH_SIZE:-SIG_SIZE], rest[-SIG_SIZE:]
        port, count = struct.unpack_from(">HB", body)
        if count > MAX_ADDRS:
            raise StreamFrameError("accept names too many addresses")
        pos, addrs = 3, []
        for _ in range(count):
            n = body[pos]
            raw = body[pos + 1:pos + 1 + n]
            if len(raw) != n:
                raise StreamFrameError("accept is truncated")
            addrs.append(str(ipaddress.ip_address(raw.decode("ascii"))))
            pos += 1 + n
        if pos != len(body):
            raise StreamFrameError("accept has trailing bytes")
        return Accept(sid, eph, port, tuple(addrs), sig)
    if kind == REFUSE:
        return Refuse(sid, _text(rest))
    if kind == FALLBACK:
        if rest:
            raise StreamFrameError("fallback has trailing bytes")
        return Fallback(sid)
    if kind == DATA:
        if not rest or rest[0] > 1:
            raise StreamFrameError("data has a bad flag")
        return Data(sid, bool(rest[0]), rest[1:])
    if kind == CREDIT:
        if len(rest) != 4:
            raise StreamFrameError("credit has the wrong size")
        return Credit(sid, struct.unpack(">I", rest)[0])
    if kind == CLOSE:
        return Close(sid, _text(rest))
    raise StreamFrameError(f"unknown stream message type {kind}")
