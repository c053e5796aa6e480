"""The relay's wire protocol, sans-IO: one frame per binary WebSocket message, decoded before any use.

    frame = version:u8 (=1) | type:u8 | request id:u32be | field* | item*
    field = item = length:u32be | bytes

Each type has a fixed list of fields, each with a minimum and a maximum length, then (for some
types) up to a capped number of repeated items, each with its own bounds. The decoder checks the
total size first, then the version, the type and every length against its bounds before slicing,
rejects trailing bytes and raises `WireError` and nothing else. Encoding is canonical: a frame
that decodes re-encodes to the same bytes. The request id ties an answer to its request (0 for
what the relay sends unasked).

| type | from | fields | items |
|---|---|---|---|
| SUBSCRIBE 0x01 | node | | token (16), ≤ 256 |
| FORWARD 0x02 | node | token (16), handle (16), sealed payload (≤ 64 KiB) | |
| PUT 0x03 | node | mailbox auth (32) | envelope (1 B..256 KiB), ≤ 256 |
| GET 0x04 | node | mailbox auth (32), after (u64), limit (u32) | |
| TURN 0x05 | node | | |
| WELCOME 0x40 | relay | max frame (u32), max batch (u32), TURN offered (u8) | |
| OK 0x41 | relay | | |
| ERROR 0x42 | relay | code (1..32, ASCII), message (≤ 256, UTF-8) | |
| PEERS 0x43 | relay | token (16), own handle (16) | other handle (16), ≤ 64 |
| DELIVER 0x44 | relay | token (16), sender's handle (16), sealed payload (≤ 64 KiB) | |
| STORED 0x45 | relay | | sequence number (u64), ≤ 256 |
| ENVELOPES 0x46 | relay | last sequence number (u64) | sequence number (u64) + envelope, ≤ 256 |
| CREDENTIALS 0x47 | relay | username (≤ 128), password (≤ 128), lifetime s (u32), URLs (≤ 1024, "\\n"-joined) | |
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from p2p.relay.errors import RelayError

VERSION = 1
HEADER = struct.Struct(">BBI")
PREFIX = struct.Struct(">I")
U64 = struct.Struct(">Q")
U32 = struct.Struct(">I")
TOKEN_SIZE = 16
HANDLE_SIZE = 16
AUTH_SIZE = 32
MAX_PAYLOAD = 65536
"""Largest sealed payload forwarded between two nodes (one signaling frame, sealed and padded)."""
MAX_ENVELOPE = 262144
"""Largest mailbox envelope (envelope.BUCKETS[-1])."""
MAX_ITEMS = 256
MAX_PEERS = 64
MAX_FRAME = 1024 * 1024 + 4096
"""Largest frame of all: a put or get batch of about 1 MiB."""


class WireError(RelayError):
    """A relay frame is malformed, oversized, of an unknown version or type, or out of place."""


class Kind(enum.IntEnum):
    """Every frame type; the comment says who sends it."""

    SUBSCRIBE = 0x01  # node: replace my tokens
    FORWARD = 0x02  # node: pass a sealed payload to a handle under a token
    PUT = 0x03  # node: store envelopes in a mailbox
    GET = 0x04  # node: read a mailbox after a sequence number
    TURN = 0x05  # node: ask for TURN credentials
    WELCOME = 0x40  # relay: the first frame, its limits
    OK = 0x41  # relay: a request succeeded (SUBSCRIBE)
    ERROR = 0x42  # relay: a request failed, one sentence
    PEERS = 0x43  # relay: who else is under a token
    DELIVER = 0x44  # relay: a sealed payload from a handle
    STORED = 0x45  # relay: a put is on disk: its sequence numbers
    ENVELOPES = 0x46  # relay: a get's answer
    CREDENTIALS = 0x47  # relay: TURN credentials


Bounds = tuple[int, int]
_TOKEN: Bounds = (TOKEN_SIZE, TOKEN_SIZE)
_HANDLE: Bounds = (HANDLE_SIZE, HANDLE_SIZE)
_AUTH: Bounds = (AUTH_SIZE, AUTH_SIZE)
_U64: Bounds = (8, 8)
_U32: Bounds = (4, 4)


@dataclass(frozen=True)
class Shape:
    """The fields of one frame type (bounds each) and its repeated items (bounds, how many at most)."""

    fields: tuple[Bounds, ...] = ()
    item: Bounds | None = None
    max_items: int = 0


SHAPES: dict[Kind, Shape] = {
    Kind.SUBSCRIBE: Shape((), _TOKEN, MAX_ITEMS),
    Kind.FORWARD: Shape((_TOKEN, _HANDLE, (1, MAX_PAYLOAD))),
    Kind.PUT: Shape((_AUTH,), (1, MAX_ENVELOPE), MAX_ITEMS),
    Kind.GET: Shape((_AUTH, _U64, _U32)),
    Kind.TURN: Shape(),
    Kind.WELCOME: Shape((_U32, _U32, (1, 1))),
    Kind.OK: Shape(),
    Kind.ERROR: Shape(((1, 32), (0, 256))),
    Kind.PEERS: Shape((_TOKEN, _HANDLE), _HANDLE, MAX_PEERS),
    Kind.DELIVER: Shape((_TOKEN, _HANDLE, (1, MAX_PAYLOAD))),
    Kind.STORED: Shape((), _U64, MAX_ITEMS),
    Kind.ENVELOPES: Shape((_U64,), (9, 8 + MAX_ENVELOPE), MAX_ITEMS),
    Kind.CREDENTIALS: Shape(((0, 128), (0, 128), _U32, (0, 1024))),
}


@dataclass(frozen=True)
class Frame:
    """A decoded frame, every length already checked against its `Shape`."""

    kind: Kind
    request: int
    fields: tuple[bytes, ...]
    items: tuple[bytes, ...] = ()


def encode(kind: Kind, request: int, *fields: bytes, items: tuple[bytes, ...] | list[bytes] = ()) -> bytes:
    """Encode a frame; `WireError` if it breaks its shape (a bug on the sending side)."""
    shape = SHAPES[kind]
    if len(fields) != len(shape.fields):
        raise WireError(f"{kind.name} takes {len(shape.fields)} fields, got {len(fields)}")
    if items and shape.item is None or len(items) > shape.max_items:
        raise WireError(f"{kind.name} takes at most {shape.max_items} items, got {len(items)}")
    if not 0 <= request <= 0xFFFFFFFF:
        raise WireError("a request id is a u32")
    parts = [HEADER.pack(VERSION, kind, request)]
    for index, (data, bounds) in enumerate(zip(fields, shape.fields)):
        _check(kind, f"field {index}", len(data), bounds)
        parts += (PREFIX.pack(len(data)), bytes(data))
    for data in items:
        assert shape.item is not None
        _check(kind, "item", len(data), shape.item)
        parts += (PREFIX.pack(len(data)), bytes(data))
    frame = b"".join(parts)
    if len(frame) > MAX_FRAME:
        raise WireError(f"{kind.name} frame of {len(frame)} bytes exceeds {MAX_FRAME}")
    return frame


def decode(data: bytes, *, max_size: int = MAX_FRAME) -> Frame:
    """Decode one frame, checking every bound before slicing; raises only `WireError`."""
    try:
        return _decode(data, max_size)
    except WireError:
        raise
    except Exception as exc:  # defensive: nothing else may escape the decoder
        raise WireError(f"undecodable relay frame: {type(exc).__name__}") from None


def _check(kind: Kind, what: str, length: int, bounds: Bounds) -> None:
    low, high = bounds
    if not low <= length <= high:
        raise WireError(f"{kind.name} {what} is {length} bytes, allowed {low}..{high}")


def _decode(data: bytes, max_size: int) -> Frame:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError(f"a relay frame must be bytes, got {type(data).__name__}")
    size = len(data)
    if size > max_size:
        raise WireError(f"relay frame of {size} bytes exceeds {max_size}")
    if size < HEADER.size:
        raise WireError("relay frame shorter than its header")
    view = memoryview(data)
    version, kind_byte, request = HEADER.unpack_from(view, 0)
    if version != VERSION:
        raise WireError(f"unsupported relay protocol version {version}")
    try:
        kind = Kind(kind_byte)
    except ValueError:
        raise WireError(f"unknown relay frame type {kind_byte}") from None
    shape = SHAPES[kind]
    offset = HEADER.size
    fields: list[bytes] = []
    for index, bounds in enumerate(shape.fields):
        chunk, offset = _take(view, offset, kind, f"field {index}", bounds)
        fields.append(chunk)
    items: list[bytes] = []
    while offset < size:
        if shape.item is None:
            raise WireError(f"{kind.name} has {size - offset} trailing bytes")
        if len(items) >= shape.max_items:
            raise WireError(f"{kind.name} has more than {shape.max_items} items")
        chunk, offset = _take(view, offset, kind, "item", shape.item)
        items.append(chunk)
    return Frame(kind, request, tuple(fields), tuple(items))


def _take(view: memoryview, offset: int, kind: Kind, what: str, bounds: Bounds) -> tuple[bytes, int]:
    if len(view) - offset < PREFIX.size:
        raise WireError(f"{kind.name} truncated before {what}")
    (length,) = PREFIX.unpack_from(view, offset)
    offset += PREFIX.size
    _check(kind, what, length, bounds)
    if length > len(view) - offset:
        raise WireError(f"{kind.name} {what} runs past the end")
    return bytes(view[offset:offset + length]), offset + length


def u64(value: int) -> bytes:
    return U64.pack(value)


def u32(value: int) -> bytes:
    return U32.pack(value)


def read_u64(data: bytes) -> int:
    return int(U64.unpack(data[:8])[0])


def read_u32(data: bytes) -> int:
    return int(U32.unpack(data[:4])[0])


def error(request: int, code: str, message: str) -> bytes:
    """An ERROR frame: a short ASCII code and one sentence (cut to 256 bytes)."""
    text = message.encode("utf-8")[:256].decode("utf-8", errors="ignore").encode("utf-8")
    return encode(Kind.ERROR, request, code.encode("ascii")[:32], text)
