"""Yjs v1 updates of Hubbub's one shape: a strict reader, and the writer of local writes.

Hubbub's documents are flat root maps whose values are plain data (Yjs "Any"
content), so the reader accepts only that shape: an item with a left or right
origin, a nested type or any other content kind is reported as a `DecodeError`.
That is what lets the validator decide who touched what without applying anything.

The writer makes the update of one local write (one value set under a root map's
key, plus deletions) directly, as pycrdt would encode it, without building a
scratch document: it is on the path of every message sent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from .errors import DecodeError

MAX_ITEMS = 64
MAX_DEPTH = 8
MAX_DELETE_RANGES = 4096


@dataclass(slots=True)
class InsertedItem:
    """One value set under `key` of root map `root`, with its Yjs id (client, clock)."""

    client: int
    clock: int
    root: str
    key: str
    value: Any


@dataclass(slots=True)
class UpdateSummary:
    """What an update does: the items it inserts and the id ranges it deletes."""

    inserts: tuple[InsertedItem, ...]
    deletes: tuple[tuple[int, int, int], ...]  # (client, clock, length)


_F64_AT = struct.Struct(">d").unpack_from
_F32_AT = struct.Struct(">f").unpack_from
_INSERT_HEAD = b"\x00\x28\x01\x01"  # clock 0; Any content under a map key; parent a root; 1-byte root name


def summarize_update(update: bytes) -> UpdateSummary:
    """Read an update; raises DecodeError for anything outside Hubbub's flat-map shape."""
    summary = _summarize_one_insert(update)
    return summary if summary is not None else _summarize_any(update)


def _summarize_one_insert(buf: bytes) -> UpdateSummary | None:
    """The shape nearly every entry has, read without function calls: one item at clock 0 of one client,
    under a 1-byte root name, holding a flat map of strings, numbers, booleans and nulls, and no deletions.

    Returns None for anything else, or anything odd, and `_summarize_any` (which this must agree with on
    every update it reads) then reads it or says why not. It is the hot path of catching up.
    """
    n = len(buf)
    if n < 12 or buf[0] != 1 or buf[1] != 1 or buf[n - 1] != 0:
        return None
    try:
        b = buf[2]
        client = b & 0x7F
        pos = 3
        shift = 7
        while b & 0x80:
            b = buf[pos]
            pos += 1
            client |= (b & 0x7F) << shift
            shift += 7
            if shift > 63:
                return None
        if (b == 0 and shift > 7) or buf[pos : pos + 4] != _INSERT_HEAD:
            return None
        root = chr(buf[pos + 4])
        length = buf[pos + 5]
        pos += 6
        if buf[pos - 2] >= 0x80 or length >= 0x80:
            return None
        key = buf[pos : pos + length].decode("utf-8")
        pos += length
        if buf[pos] != 1 or buf[pos + 1] != 118 or buf[pos + 2] >= 0x80:
            return None
        fields = buf[pos + 2]
        pos += 3
        value: dict[str, Any] = {}
        for _ in range(fields):
            length = buf[pos]
            if length >= 0x80:
                return None
            pos += 1
            name = buf[pos : pos + length].decode("utf-8")
            pos += length
            tag = buf[pos]
            pos += 1
            if tag == 119:
                length = buf[pos]
                pos += 1
                if length >= 0x80:
                    b = buf[pos]
                    pos += 1
                    if b == 0 or b >= 0x80:
                        return None
                    length = (length & 0x7F) | b << 7
                if pos + length > n:
                    return None
                value[name] = buf[pos : pos + length].decode("utf-8")
                pos += length
            elif tag == 123:
                value[name] = _F64_AT(buf, pos)[0]
                pos += 8
            elif tag == 124:
                value[name] = _F32_AT(buf, pos)[0]
                pos += 4
            elif tag == 125:
                b = buf[pos]
                pos += 1
                if b & 0x80:
                    return None
                value[name] = -(b & 0x3F) if b & 0x40 else b & 0x3F
            elif tag == 120:
                value[name] = True
            elif tag == 121:
                value[name] = False
            elif tag == 126 or tag == 127:
                value[name] = None
            else:
                return None
    except (IndexError, UnicodeDecodeError, struct.error):
        return None
    if pos != n - 1:  # the last byte: an empty delete set
        return None
    return UpdateSummary((InsertedItem(client, 0, root, key, value),), ())


def _summarize_any(update: bytes) -> UpdateSummary:
    """Read any update of Hubbub's shape; raises DecodeError for anything outside it."""
    buf = update
    n = len(buf)
    pos = 0
    count = [0]

    def uint() -> int:
        nonlocal pos
        if pos >= n:
            raise DecodeError("update is truncated")
        b = buf[pos]
        pos += 1
        if b < 0x80:
            return b
        result = b & 0x7F
        shift = 7
        while True:
            if pos >= n:
                raise DecodeError("update is truncated")
            b = buf[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                if b == 0:
                    raise DecodeError("varint is not minimally encoded")
                return result
            shift += 7
            if shift > 63:
                raise DecodeError("varint too long")

    def string() -> str:
        nonlocal pos
        length = uint()
        end = pos + length
        if end > n or length > 1 << 18:
            raise DecodeError("string overruns the update")
        try:
            value = buf[pos:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("string is not UTF-8") from exc
        pos = end
        return value

    def raw(k: int) -> bytes:
        nonlocal pos
        if pos + k > n:
            raise DecodeError("update is truncated")
        out = buf[pos : pos + k]
        pos += k
        return bytes(out)

    def any_value(depth: int) -> Any:
        nonlocal pos
        if depth > MAX_DEPTH:
            raise DecodeError("value nests too deeply")
        count[0] += 1
        if count[0] > 10_000:
            raise DecodeError("value is too large")
        if pos >= n:
            raise DecodeError("update is truncated")
        tag = buf[pos]
        pos += 1
        if tag == 119:
            return string()
        if tag == 118:
            obj: dict[str, Any] = {}
            for _ in range(uint()):
                k = string()
                obj[k] = any_value(depth + 1)
            return obj
        if tag == 123:
            return struct.unpack(">d", raw(8))[0]
        if tag == 125:
            if pos >= n:
                raise DecodeError("update is truncated")
            b = buf[pos]
            pos += 1
            negative = bool(b & 0x40)
            value = b & 0x3F
            shift = 6
            while b & 0x80:
                if pos >= n:
                    raise DecodeError("update is truncated")
                b = buf[pos]
                pos += 1
                value |= (b & 0x7F) << shift
                shift += 7
                if shift > 70:
                    raise DecodeError("varint too long")
            return -value if negative else value
        if tag == 117:
            return [any_value(depth + 1) for _ in range(uint())]
        if tag == 120:
            return True
        if tag == 121:
            return False
        if tag in (126, 127):
            return None
        if tag == 124:
            return struct.unpack(">f", raw(4))[0]
        if tag == 122:
            return struct.unpack(">q", raw(8))[0]
        if tag == 116:
            return raw(uint())
        raise DecodeError(f"unknown value tag {tag}")

    inserts: list[InsertedItem] = []
    for _ in range(uint()):
        nstructs = uint()
        client = uint()
        clock = uint()
        for _ in range(nstructs):
            if len(inserts) >= MAX_ITEMS:
                raise DecodeError("update inserts too many items")
            if pos >= n:
                raise DecodeError("update is truncated")
            info = buf[pos]
            pos += 1
            if info & 0xC0:
                raise DecodeError("update inserts relative to another item")
            if info & 0x1F != 8:
                raise DecodeError(f"update carries unsupported content kind {info & 0x1F}")
            if uint() != 1:
                raise DecodeError("update writes into a nested type")
            root = string()
            if not info & 0x20:
                raise DecodeError("update writes to a root that is not a map")
            key = string()
            if uint() != 1:
                raise DecodeError("update sets several values in one item")
            value = any_value(0)
            inserts.append(InsertedItem(client, clock, root, key, value))
            clock += 1
    deletes: list[tuple[int, int, int]] = []
    for _ in range(uint()):
        client = uint()
        for _ in range(uint()):
            if len(deletes) >= MAX_DELETE_RANGES:
                raise DecodeError("update deletes too many ranges")
            start = uint()
            length = uint()
            deletes.append((client, start, length))
    if pos != n:
        raise DecodeError("trailing bytes after update")
    return UpdateSummary(tuple(inserts), tuple(deletes))


def _write_uint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _write_string(out: bytearray, text: str) -> None:
    raw = text.encode("utf-8")
    _write_uint(out, len(raw))
    out += raw


_INT64 = 1 << 63
_F32 = struct.Struct(">f")
_F64 = struct.Struct(">d")


def _write_number(out: bytearray, number: float) -> None:
    """A float as yrs writes `Any::Number`: 4 bytes when float32 holds it exactly, else 8."""
    try:
        packed = _F32.pack(number)
    except OverflowError:
        packed = b""
    if packed and _F32.unpack(packed)[0] == number:
        out.append(124)
        out += packed
    else:
        out.append(123)
        out += _F64.pack(number)


def _write_any(out: bytearray, value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError("value nests too deeply")
    kind = type(value)
    if kind is str:
        out.append(119)
        _write_string(out, value)
    elif kind is dict:
        out.append(118)
        _write_uint(out, len(value))
        for key, item in value.items():
            if type(key) is not str:
                raise ValueError("map keys must be strings")
            _write_string(out, key)
            _write_any(out, item, depth + 1)
    elif kind is float:
        _write_number(out, value)
    elif kind is bool:
        out.append(120 if value else 121)
    elif kind is int:
        if not -_INT64 <= value < _INT64:
            raise ValueError("integer does not fit in 64 bits")
        # pycrdt makes an int a Number when it survives the round trip through a double
        # (Rust's saturating cast back to i64), and a BigInt otherwise.
        back = min(max(int(float(value)), -_INT64), _INT64 - 1)
        if back == value:
            _write_number(out, float(value))
        else:
            out.append(122)
            out += struct.pack(">q", value)
    elif value is None:
        out.append(126)
    elif kind is list or kind is tuple:
        out.append(117)
        _write_uint(out, len(value))
        for item in value:
            _write_any(out, item, depth + 1)
    elif kind is bytes:
        out.append(116)
        _write_uint(out, len(value))
        out += value
    else:
        raise ValueError(f"cannot store a {kind.__name__} in a room")


def _write_delete_set(out: bytearray, ranges: list[tuple[int, int, int]]) -> None:
    by_client: dict[int, list[tuple[int, int]]] = {}
    for client, clock, length in ranges:
        by_client.setdefault(client, []).append((clock, length))
    _write_uint(out, len(by_client))
    for client in sorted(by_client):
        _write_uint(out, client)
        spans = sorted(by_client[client])
        _write_uint(out, len(spans))
        for clock, length in spans:
            _write_uint(out, clock)
            _write_uint(out, length)


def encode_delete_update(ranges: list[tuple[int, int, int]]) -> bytes:
    """An update that inserts nothing and deletes the given (client, clock, length) ranges."""
    out = bytearray((0,))
    _write_delete_set(out, ranges)
    return bytes(out)


def encode_insert_update(client: int, root: str, key: str, value: Any,
                         deletes: list[tuple[int, int, int]] | None = None) -> bytes:
    """The update that sets `value` under `key` of root map `root` as the first item of `client`,
    and deletes the given (client, clock, length) ranges. Raises ValueError for a value Yjs cannot hold."""
    out = bytearray((1, 1))
    _write_uint(out, client)
    out += b"\x00\x28\x01"  # clock 0; item: Any content, with a parent sub (map key); parent: a root
    _write_string(out, root)
    _write_string(out, key)
    out.append(1)  # one value
    _write_any(out, value)
    _write_delete_set(out, deletes or [])
    return bytes(out)
