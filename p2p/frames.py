"""Wire frames: versioned, typed, size-capped lists of length-prefixed byte fields.

Layout of one frame (all integers big-endian)::

    +---------+------+----------------+---------+----------------+---------+ ...
    | version | type | len(field 0)   | field 0 | len(field 1)   | field 1 |
    | 1 byte  | 1 B  | 4 bytes (u32)  | ...     | 4 bytes (u32)  | ...     |
    +---------+------+----------------+---------+----------------+---------+ ...

Each frame type has a fixed number of fields and a cap for each field. The decoder checks the
total size before looking at anything else, then the version, the type, and every field length
before slicing. It raises `FrameError` and nothing else, whatever the input.
On a byte stream (the signaling endpoint) each frame is preceded by its own u32 length.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from p2p.errors import FrameError

VERSION = 1
HEADER_SIZE = 2
FIELD_PREFIX = 4
MAX_FRAME_SIZE = 262_144
"""Largest frame accepted anywhere (aiortc peers accept 256 KiB SCTP messages)."""
MAX_SIGNAL_FRAME_SIZE = 65_536
"""Largest frame accepted on the signaling endpoint."""
KEY_SIZE = 32
NONCE_SIZE = 32
SESSION_ID_SIZE = 16
SIGNATURE_SIZE = 64
FINGERPRINT_SIZE = 32
MAX_ROOM_ID_SIZE = 64
MAX_SDP_SIZE = 32_768
MAX_REASON_SIZE = 256
TOKEN_ENTRY_SIZE = 32 + 24 + 64 + 16
"""One room token: the token, then the sealed label (nonce, padded label, MAC)."""
MAX_TOKENS = 256
TICKET_SIZE = 32
"""One admission ticket (see p2p.room_tokens)."""
MAX_TICKETS = 256
DATA_OVERHEAD = HEADER_SIZE + 2 * FIELD_PREFIX + MAX_ROOM_ID_SIZE
MAX_PAYLOAD_SIZE = MAX_FRAME_SIZE - DATA_OVERHEAD
"""Largest application payload `PeerNode.send` accepts."""


class FrameType(enum.IntEnum):
    """Every frame type on the wire; the comment says where it travels."""

    HELLO = 0x01  # signaling: listener -> dialer: [listener public key, nonce]
    OFFER = 0x02  # signaling: signed SDP offer (see p2p.signal_message)
    ANSWER = 0x03  # signaling: signed SDP answer
    REJECT = 0x04  # signaling: [reason]
    KNOCK = 0x05  # signaling: dialer -> listener: [dialer public key, admission tickets]
    ADMIT = 0x06  # signaling: listener -> dialer: [lane: b"member" or b"stranger"]
    CHALLENGE = 0x10  # control channel: [nonce]
    PROOF = 0x11  # control channel: [signature over the transcript]
    TOKENS = 0x12  # control channel: [concatenated room token entries]
    PING = 0x13  # control channel: [opaque]
    PONG = 0x14  # control channel: [echoed opaque]
    BYE = 0x15  # control channel: [reason]
    DATA = 0x20  # sync/live/voice/files channels: [room id or empty, payload]


_SIGNED = (KEY_SIZE, KEY_SIZE, SESSION_ID_SIZE, MAX_SDP_SIZE, FINGERPRINT_SIZE, SIGNATURE_SIZE)

SCHEMA: dict[FrameType, tuple[int, ...]] = {
    FrameType.HELLO: (KEY_SIZE, NONCE_SIZE),
    FrameType.KNOCK: (KEY_SIZE, TICKET_SIZE * MAX_TICKETS),
    FrameType.ADMIT: (16,),
    FrameType.OFFER: _SIGNED,
    FrameType.ANSWER: _SIGNED,
    FrameType.REJECT: (MAX_REASON_SIZE,),
    FrameType.CHALLENGE: (NONCE_SIZE,),
    FrameType.PROOF: (SIGNATURE_SIZE,),
    FrameType.TOKENS: (TOKEN_ENTRY_SIZE * MAX_TOKENS,),
    FrameType.PING: (16,),
    FrameType.PONG: (16,),
    FrameType.BYE: (MAX_REASON_SIZE,),
    FrameType.DATA: (MAX_ROOM_ID_SIZE, MAX_PAYLOAD_SIZE),
}
"""For each type, the cap of each field; the number of caps is the number of fields."""

_U32 = struct.Struct(">I")


@dataclass(frozen=True)
class Frame:
    """A decoded frame: its type and its fields, already checked against `SCHEMA`."""

    type: FrameType
    fields: tuple[bytes, ...]


def encode_frame(frame_type: FrameType, *fields: bytes) -> bytes:
    """Encode a frame; raises `FrameError` if it breaks the schema (a bug on our side)."""
    caps = SCHEMA[frame_type]
    if len(fields) != len(caps):
        raise FrameError(f"{frame_type.name} takes {len(caps)} fields, got {len(fields)}")
    parts = [bytes((VERSION, frame_type))]
    for index, (field, cap) in enumerate(zip(fields, caps)):
        if len(field) > cap:
            raise FrameError(f"{frame_type.name} field {index} is {len(field)} bytes, cap {cap}")
        parts.append(_U32.pack(len(field)))
        parts.append(bytes(field))
    data = b"".join(parts)
    if len(data) > MAX_FRAME_SIZE:
        raise FrameError(f"frame of {len(data)} bytes exceeds {MAX_FRAME_SIZE}")
    return data


def decode_frame(data: bytes, *, max_size: int = MAX_FRAME_SIZE) -> Frame:
    """Decode one frame, checking every cap before slicing; raises only `FrameError`."""
    try:
        return _decode(data, max_size)
    except FrameError:
        raise
    except Exception as exc:  # defensive: nothing else may escape the decoder
        raise FrameError(f"undecodable frame: {type(exc).__name__}") from None


def _decode(data: bytes, max_size: int) -> Frame:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FrameError(f"frame must be bytes, got {type(data).__name__}")
    size = len(data)
    if size > max_size:
        raise FrameError(f"frame of {size} bytes exceeds {max_size}")
    if size < HEADER_SIZE:
        raise FrameError("frame shorter than its header")
    view = memoryview(data)
    if view[0] != VERSION:
        raise FrameError(f"unsupported frame version {view[0]}")
    try:
        frame_type = FrameType(view[1])
    except ValueError:
        raise FrameError(f"unknown frame type {view[1]}") from None
    caps = SCHEMA[frame_type]
    fields: list[bytes] = []
    offset = HEADER_SIZE
    for index, cap in enumerate(caps):
        if size - offset < FIELD_PREFIX:
            raise FrameError(f"{frame_type.name} truncated before field {index}")
        (length,) = _U32.unpack_from(view, offset)
        offset += FIELD_PREFIX
        if length > cap:
            raise FrameError(f"{frame_type.name} field {index} is {length} bytes, cap {cap}")
        if length > size - offset:
            raise FrameError(f"{frame_type.name} field {index} runs past the end")
        fields.append(bytes(view[offset : offset + length]))
        offset += length
    if offset != size:
        raise FrameError(f"{frame_type.name} has {size - offset} trailing bytes")
    return Frame(frame_type, tuple(fields))


def expect(frame: Frame, *types: FrameType) -> Frame:
    """Return `frame` if it is of one of `types`, else raise `FrameError` (out of place)."""
    if frame.type not in types:
        wanted = "/".join(t.name for t in types)
        raise FrameError(f"expected {wanted}, got {frame.type.name}")
    return frame


def exact_size(field: bytes, size: int, what: str) -> bytes:
    """Return `field` if it is exactly `size` bytes long, else raise `FrameError`."""
    if len(field) != size:
        raise FrameError(f"{what} must be {size} bytes, got {len(field)}")
    return field


def stream_prefix(frame: bytes) -> bytes:
    """The u32 length that precedes `frame` on a byte stream."""
    return _U32.pack(len(frame))


def stream_length(prefix: bytes, *, max_size: int = MAX_SIGNAL_FRAME_SIZE) -> int:
    """Parse a stream length prefix, refusing lengths over `max_size` before any read."""
    if len(prefix) != FIELD_PREFIX:
        raise FrameError("truncated length prefix")
    (length,) = _U32.unpack(prefix)
    if length > max_size:
        raise FrameError(f"stream frame of {length} bytes exceeds {max_size}")
    if length < HEADER_SIZE:
        raise FrameError("stream frame shorter than a header")
    return int(length)
