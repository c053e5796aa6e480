"""The chunk protocol: frames a downloader and a holder exchange over a byte stream; strict decoders.

    HAVE?  room(32) root(32)               which chunks of this file do you hold?
    HAVE   root(32) count:u32 bitmap       one bit per chunk, lowest bit first (count 0: none, or not for you)
    LIST?  room(32) root(32)               the file's chunk ids, please
    LIST   root(32) ids(32 each)           checked by the asker against the root in the manifest
    WANT   room(32) root(32) index:u32     send me chunk `index`
    CHUNK  root(32) index:u32 sealed       the chunk (checked by the asker against its id)
    NOPE   root(32) index:u32 why:u8       not held (any more), or not for you

Every frame starts with its type byte. `decode` checks the size before anything else, then every length, and raises
`FileProtocolError` and nothing else, whatever the input.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from crdt.attachments import MAX_FILE_SIZE

from .chunks import CHUNK_SIZE, ID_SIZE, MAX_SEALED

HAVE_Q, HAVE, LIST_Q, LIST, WANT, CHUNK, NOPE = range(1, 8)
MAX_CHUNKS = MAX_FILE_SIZE // CHUNK_SIZE
MAX_FRAME = 1 + ID_SIZE + 4 + MAX_SEALED
NOT_HELD, NOT_ALLOWED = 0, 1
_U32 = struct.Struct(">I")


class FileProtocolError(ValueError):
    """A chunk-protocol frame that does not decode."""


@dataclass(frozen=True, slots=True)
class HaveQuery:
    room: bytes
    root: bytes


@dataclass(frozen=True, slots=True)
class Have:
    root: bytes
    held: bytes  # one byte per chunk: 1 held, 0 not

    def count(self) -> int:
        return len(self.held)


@dataclass(frozen=True, slots=True)
class ListQuery:
    room: bytes
    root: bytes


@dataclass(frozen=True, slots=True)
class HashList:
    root: bytes
    ids: bytes


@dataclass(frozen=True, slots=True)
class Want:
    room: bytes
    root: bytes
    index: int


@dataclass(frozen=True, slots=True)
class Chunk:
    root: bytes
    index: int
    sealed: bytes | memoryview  # decoded: a view into the frame (a megabyte not copied again)


@dataclass(frozen=True, slots=True)
class Nope:
    root: bytes
    index: int
    why: int


Frame = HaveQuery | Have | ListQuery | HashList | Want | Chunk | Nope


def encode(frame: Frame) -> bytes:
    if isinstance(frame, HaveQuery):
        return bytes((HAVE_Q,)) + frame.room + frame.root
    if isinstance(frame, ListQuery):
        return bytes((LIST_Q,)) + frame.room + frame.root
    if isinstance(frame, Have):
        bits = bytearray((len(frame.held) + 7) // 8)
        for i, held in enumerate(frame.held):
            if held:
                bits[i >> 3] |= 1 << (i & 7)
        return bytes((HAVE,)) + frame.root + _U32.pack(len(frame.held)) + bytes(bits)
    if isinstance(frame, HashList):
        return bytes((LIST,)) + frame.root + frame.ids
    if isinstance(frame, Want):
        return bytes((WANT,)) + frame.room + frame.root + _U32.pack(frame.index)
    if isinstance(frame, Chunk):
        return b"".join((bytes((CHUNK,)), frame.root, _U32.pack(frame.index), frame.sealed))
    return bytes((NOPE,)) + frame.root + _U32.pack(frame.index) + bytes((frame.why,))


def chunk_header(root: bytes, index: int) -> bytes:
    """The bytes a CHUNK frame starts with; the sealed chunk follows (a holder reads it from disk behind them)."""
    return bytes((CHUNK,)) + root + _U32.pack(index)


def decode(data: bytes | bytearray) -> Frame:
    """One frame; raises FileProtocolError for anything else. A chunk's bytes stay a view into `data`."""
    try:
        return _decode(data)
    except FileProtocolError:
        raise
    except Exception as exc:  # the decoder's promise: nothing else escapes
        raise FileProtocolError(f"malformed frame ({type(exc).__name__})") from None


def _exact(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise FileProtocolError(f"{what} frame has the wrong size")


def _decode(raw: bytes | bytearray) -> Frame:
    if not isinstance(raw, (bytes, bytearray)) or not raw:
        raise FileProtocolError("empty frame")
    if len(raw) > MAX_FRAME:
        raise FileProtocolError("frame is too large")
    kind = raw[0]
    if kind == CHUNK:
        if len(raw) < 1 + ID_SIZE + 4 + 16:
            raise FileProtocolError("chunk frame is truncated")
        return Chunk(bytes(raw[1:1 + ID_SIZE]), _U32.unpack_from(raw, 1 + ID_SIZE)[0], memoryview(raw)[1 + ID_SIZE + 4:])
    data = bytes(raw)  # every other frame is small
    if kind in (HAVE_Q, LIST_Q):
        _exact(data, 1 + 2 * ID_SIZE, "query")
        room, root = data[1:1 + ID_SIZE], data[1 + ID_SIZE:]
        return HaveQuery(room, root) if kind == HAVE_Q else ListQuery(room, root)
    if kind == HAVE:
        if len(data) < 1 + ID_SIZE + 4:
            raise FileProtocolError("have frame is truncated")
        count = _U32.unpack_from(data, 1 + ID_SIZE)[0]
        if count > MAX_CHUNKS:
            raise FileProtocolError("have frame counts too many chunks")
        bits = data[1 + ID_SIZE + 4:]
        _exact(bits, (count + 7) // 8, "have")
        if count % 8 and bits[-1] >> (count % 8):
            raise FileProtocolError("have frame sets bits past its count")
        held = bytes((bits[i >> 3] >> (i & 7)) & 1 for i in range(count))
        return Have(data[1:1 + ID_SIZE], held)
    if kind == LIST:
        ids = data[1 + ID_SIZE:]
        if len(data) < 1 + ID_SIZE or not ids or len(ids) % ID_SIZE or len(ids) // ID_SIZE > MAX_CHUNKS:
            raise FileProtocolError("hash list frame has a bad length")
        return HashList(data[1:1 + ID_SIZE], ids)
    if kind == WANT:
        _exact(data, 1 + 2 * ID_SIZE + 4, "want")
        index = _U32.unpack_from(data, 1 + 2 * ID_SIZE)[0]
        if index >= MAX_CHUNKS:
            raise FileProtocolError("want frame names a chunk past the largest file")
        return Want(data[1:1 + ID_SIZE], data[1 + ID_SIZE:1 + 2 * ID_SIZE], index)
    if kind == NOPE:
        _exact(data, 1 + ID_SIZE + 4 + 1, "nope")
        why = data[-1]
        if why not in (NOT_HELD, NOT_ALLOWED):
            raise FileProtocolError("nope frame has an unknown reason")
        return Nope(data[1:1 + ID_SIZE], _U32.unpack_from(data, 1 + ID_SIZE)[0], why)
    raise FileProtocolError(f"unknown frame type {kind}")
