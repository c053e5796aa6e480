"""A strict reader of Yjs v1 updates: what an update inserts and deletes, before anything applies it.

Hubbub's documents are flat root maps whose values are plain data (Yjs "Any"
content), so the reader accepts only that shape: an item with a left or right
origin, a nested type or any other content kind is reported as a `DecodeError`.
That is what lets the validator decide who touched what without applying anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from .errors import DecodeError
from .varint import read_uint

MAX_ITEMS = 64
MAX_DEPTH = 8
MAX_DELETE_RANGES = 4096


@dataclass(frozen=True, slots=True)
class InsertedItem:
    """One value set under `key` of root map `root`, with its Yjs id (client, clock)."""

    client: int
    clock: int
    root: str
    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """What an update does: the items it inserts and the id ranges it deletes."""

    inserts: tuple[InsertedItem, ...]
    deletes: tuple[tuple[int, int, int], ...]  # (client, clock, length)


class _Reader:
    __slots__ = ("buf", "pos", "count")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0
        self.count = 0

    def uint(self) -> int:
        pos = self.pos
        if pos < len(self.buf) and self.buf[pos] < 0x80:
            self.pos = pos + 1
            return self.buf[pos]
        value, self.pos = read_uint(self.buf, pos)
        return value

    def byte(self) -> int:
        if self.pos >= len(self.buf):
            raise DecodeError("update is truncated")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def string(self) -> str:
        n = self.uint()
        end = self.pos + n
        if end > len(self.buf) or n > 1 << 18:
            raise DecodeError("string overruns the update")
        try:
            value = self.buf[self.pos : end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("string is not UTF-8") from exc
        self.pos = end
        return value

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise DecodeError("update is truncated")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def signed(self) -> int:
        b = self.byte()
        negative = bool(b & 0x40)
        value = b & 0x3F
        shift = 6
        while b & 0x80:
            b = self.byte()
            value |= (b & 0x7F) << shift
            shift += 7
            if shift > 70:
                raise DecodeError("varint too long")
        return -value if negative else value

    def any(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise DecodeError("value nests too deeply")
        self.count += 1
        if self.count > 10_000:
            raise DecodeError("value is too large")
        tag = self.byte()
        if tag == 119:
            return self.string()
        if tag == 118:
            n = self.uint()
            obj: dict[str, Any] = {}
            for _ in range(n):
                k = self.string()
                obj[k] = self.any(depth + 1)
            return obj
        if tag == 123:
            return struct.unpack(">d", self.raw(8))[0]
        if tag == 125:
            return self.signed()
        if tag == 117:
            n = self.uint()
            return [self.any(depth + 1) for _ in range(n)]
        if tag == 120:
            return True
        if tag == 121:
            return False
        if tag in (126, 127):
            return None
        if tag == 124:
            return struct.unpack(">f", self.raw(4))[0]
        if tag == 122:
            return struct.unpack(">q", self.raw(8))[0]
        if tag == 116:
            n = self.uint()
            return self.raw(n)
        raise DecodeError(f"unknown value tag {tag}")


def summarize_update(update: bytes) -> UpdateSummary:
    """Read an update; raises DecodeError for anything outside Hubbub's flat-map shape."""
    r = _Reader(update)
    inserts: list[InsertedItem] = []
    for _ in range(r.uint()):
        nstructs = r.uint()
        client = r.uint()
        clock = r.uint()
        for _ in range(nstructs):
            if len(inserts) >= MAX_ITEMS:
                raise DecodeError("update inserts too many items")
            info = r.byte()
            if info & 0xC0:
                raise DecodeError("update inserts relative to another item")
            if info & 0x1F != 8:
                raise DecodeError(f"update carries unsupported content kind {info & 0x1F}")
            if r.uint() != 1:
                raise DecodeError("update writes into a nested type")
            root = r.string()
            if not info & 0x20:
                raise DecodeError("update writes to a root that is not a map")
            key = r.string()
            n = r.uint()
            if n != 1:
                raise DecodeError("update sets several values in one item")
            value = r.any()
            inserts.append(InsertedItem(client, clock, root, key, value))
            clock += 1
    deletes: list[tuple[int, int, int]] = []
    for _ in range(r.uint()):
        client = r.uint()
        for _ in range(r.uint()):
            if len(deletes) >= MAX_DELETE_RANGES:
                raise DecodeError("update deletes too many ranges")
            start = r.uint()
            length = r.uint()
            deletes.append((client, start, length))
    if r.pos != len(update):
        raise DecodeError("trailing bytes after update")
    return UpdateSummary(tuple(inserts), tuple(deletes))


def _write_uint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def encode_delete_update(ranges: list[tuple[int, int, int]]) -> bytes:
    """An update that inserts nothing and deletes the given (client, clock, length) ranges."""
    by_client: dict[int, list[tuple[int, int]]] = {}
    for client, clock, length in ranges:
        by_client.setdefault(client, []).append((clock, length))
    out = bytearray((0,))
    _write_uint(out, len(by_client))
    for client in sorted(by_client):
        _write_uint(out, client)
        spans = sorted(by_client[client])
        _write_uint(out, len(spans))
        for clock, length in spans:
            _write_uint(out, clock)
            _write_uint(out, length)
    return bytes(out)
