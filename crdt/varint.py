"""lib0-style variable-length integers and strings, the encoding Yjs updates and Hubbub frames use."""

from __future__ import annotations

from .errors import DecodeError


def write_uint(out: bytearray, value: int) -> None:
    """Append `value` (>= 0) as an unsigned LEB128 varint."""
    if value < 0:
        raise ValueError("negative varuint")
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def read_uint(buf: bytes, pos: int) -> tuple[int, int]:
    """Read an unsigned varint at `pos`; returns (value, new position).

    Only the minimal encoding is accepted (no trailing zero groups), so that every
    decoded value re-encodes to the bytes it came from.
    """
    result = 0
    shift = 0
    n = len(buf)
    while True:
        if pos >= n:
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            if b == 0 and shift:
                raise DecodeError("varint is not minimally encoded")
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint too long")


def write_bytes(out: bytearray, data: bytes) -> None:
    """Append a length-prefixed byte string."""
    write_uint(out, len(data))
    out += data


def read_bytes(buf: bytes, pos: int, limit: int = 1 << 24) -> tuple[bytes, int]:
    """Read a length-prefixed byte string no longer than `limit`."""
    length, pos = read_uint(buf, pos)
    if length > limit or pos + length > len(buf):
        raise DecodeError("byte string overruns its buffer")
    return bytes(buf[pos : pos + length]), pos + length


def read_string(buf: bytes, pos: int, limit: int = 1 << 20) -> tuple[str, int]:
    """Read a length-prefixed UTF-8 string."""
    raw, pos = read_bytes(buf, pos, limit)
    try:
        return raw.decode("utf-8"), pos
    except UnicodeDecodeError as exc:
        raise DecodeError("string is not UTF-8") from exc
