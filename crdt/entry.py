"""The signed entry: one change by one member, hash-chained to that member's previous entry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from .errors import DecodeError
from .varint import read_uint, write_uint

VERSION = 1
KEY_SIZE = 32
HASH_SIZE = 32
NONCE_SIZE = 8  # a random salt; the cipher nonce is derived from it and the entry's place
SIG_SIZE = 64
NO_HASH = bytes(HASH_SIZE)
MAX_DEPS = 64
MAX_CIPHERTEXT = 256 * 1024
MAX_ENTRY_SIZE = MAX_CIPHERTEXT + 1024
SIGN_CONTEXT = b"hubbub-entry-v1"


_blake2b = hashlib.blake2b


def digest(data: bytes) -> bytes:
    """The 32-byte BLAKE2b hash used for entry ids, chains and payload hashes."""
    return hashlib.blake2b(data, digest_size=HASH_SIZE).digest()


@dataclass(slots=True, eq=True)
class Entry:
    """A signed, encrypted log entry (treat it as immutable: its hash and header are cached).

    The signature covers the header, which holds the hash of the ciphertext, so an
    entry whose ciphertext was redacted (a disappeared message) still verifies and
    still links its author's chain.
    """

    room_id: bytes
    author: bytes
    seq: int
    prev: bytes
    epoch: int
    deps: tuple[bytes, ...]
    nonce: bytes
    payload_hash: bytes
    signature: bytes
    ciphertext: bytes | None
    _hash: bytes | None = field(default=None, init=False, compare=False, repr=False)
    _header: bytes | None = field(default=None, init=False, compare=False, repr=False)
    _intact: bool = field(default=False, init=False, compare=False, repr=False)  # the payload hash was checked

    def header(self) -> bytes:
        """The signed part of the entry."""
        cached = self._header
        if cached is not None:
            return cached
        out = bytearray((VERSION,))
        out += self.room_id
        out += self.author
        write_uint(out, self.seq)
        out += self.prev
        write_uint(out, self.epoch)
        write_uint(out, len(self.deps))
        for dep in self.deps:
            out += dep
        out += self.nonce
        out += self.payload_hash
        header = bytes(out)
        object.__setattr__(self, "_header", header)
        return header

    @property
    def hash(self) -> bytes:
        """The entry id: the hash of the signed header and its signature."""
        h = self._hash
        if h is None:
            header = self._header
            h = self._hash = _blake2b((self.header() if header is None else header) + self.signature,
                                      digest_size=HASH_SIZE).digest()
        return h

    @property
    def redacted(self) -> bool:
        return self.ciphertext is None

    def encode(self) -> bytes:
        """Wire and file form: header, signature, then the ciphertext if present."""
        header = self._header if self._header is not None else self.header()
        ct = self.ciphertext
        if ct is None:
            return header + self.signature + b"\x00"
        size = len(ct)
        if 0x80 <= size < 0x4000:  # the usual length: two varint bytes, written inline
            return b"".join((header, self.signature, bytes((1, (size & 0x7F) | 0x80, size >> 7)), ct))
        out = bytearray(header)
        out += self.signature
        out.append(1)
        write_uint(out, size)
        out += ct
        return bytes(out)

    def without_payload(self) -> Entry:
        """The same entry with its ciphertext dropped (for an expired message)."""
        hollow = replace(self, ciphertext=None)
        object.__setattr__(hollow, "_hash", self._hash)
        object.__setattr__(hollow, "_header", self._header)  # the hash does not cover the ciphertext
        return hollow

    def signature_valid(self) -> bool:
        """True when the author's signature over the header verifies."""
        try:
            VerifyKey(self.author).verify(SIGN_CONTEXT + self.header(), self.signature)
        except (BadSignatureError, ValueError):
            return False
        return True

    def payload_intact(self) -> bool:
        """True when the ciphertext (if present) matches the signed payload hash."""
        ct = self.ciphertext
        return ct is None or self._intact or _blake2b(ct, digest_size=HASH_SIZE).digest() == self.payload_hash


def sign_entry(
    key: SigningKey,
    *,
    room_id: bytes,
    seq: int,
    prev: bytes,
    epoch: int,
    deps: tuple[bytes, ...],
    nonce: bytes,
    ciphertext: bytes,
) -> Entry:
    """Build and sign an entry by the holder of `key`."""
    unsigned = Entry(
        room_id=room_id,
        author=bytes(key.verify_key),
        seq=seq,
        prev=prev,
        epoch=epoch,
        deps=deps,
        nonce=nonce,
        payload_hash=digest(ciphertext),
        signature=bytes(SIG_SIZE),
        ciphertext=ciphertext,
    )
    signature = key.sign(SIGN_CONTEXT + unsigned.header()).signature
    return replace(unsigned, signature=signature)


# The room id, author and single-dependency list decoded last: the entries of a frame come in runs that share them,
# so they share these objects too (one allocation fewer each, and hashes that are already computed).
_RECENT: list[Any] = [NO_HASH, NO_HASH, (NO_HASH,)]


def decode_entry(buf: bytes, pos: int = 0) -> tuple[Entry, int]:
    """Parse one entry at `pos`; returns it and the position after it. Raises only DecodeError.

    On the path of every entry a sync brings in, so written flat: one-byte varints are read inline.
    """
    if type(buf) is not bytes:
        buf = bytes(buf)
    n = len(buf)
    if pos >= n:
        raise DecodeError("entry is empty")
    if buf[pos] != VERSION:
        raise DecodeError(f"unknown entry version {buf[pos]}")
    start = pos
    p = pos + 1 + 2 * KEY_SIZE
    if p >= n:
        raise DecodeError("entry is truncated")
    recent = _RECENT
    room_id = recent[0]
    if not buf.startswith(room_id, pos + 1):
        room_id = recent[0] = buf[pos + 1 : pos + 1 + KEY_SIZE]
    author = recent[1]
    if not buf.startswith(author, pos + 1 + KEY_SIZE):
        author = recent[1] = buf[pos + 1 + KEY_SIZE : p]
    seq = buf[p]
    if seq < 0x80:
        p += 1
    elif p + 1 < n and 0 < buf[p + 1] < 0x80:  # two bytes: up to 16383
        seq = (seq & 0x7F) | buf[p + 1] << 7
        p += 2
    else:
        seq, p = read_uint(buf, p)
    prev = buf[p : p + HASH_SIZE]
    p += HASH_SIZE
    if p + 1 >= n:
        raise DecodeError("entry is truncated")
    epoch = buf[p]
    if epoch < 0x80:
        p += 1
    else:
        epoch, p = read_uint(buf, p)
    ndeps = buf[p] if p < n else 0x80
    if ndeps < 0x80:
        p += 1
    else:
        ndeps, p = read_uint(buf, p)
    if ndeps > MAX_DEPS:
        raise DecodeError("entry has too many dependencies")
    if ndeps == 1:  # the usual case: one control-frontier entry
        if p + HASH_SIZE > n:
            raise DecodeError("entry is truncated")  # (and a cut-off dependency must not be remembered)
        deps: tuple[bytes, ...] = recent[2]
        if not buf.startswith(deps[0], p):
            deps = recent[2] = (buf[p : p + HASH_SIZE],)
    else:
        deps = tuple(buf[p + i * HASH_SIZE : p + (i + 1) * HASH_SIZE] for i in range(ndeps))
    p += ndeps * HASH_SIZE
    if p > n:
        raise DecodeError("entry is truncated")
    if ndeps > 1 and any(a >= b for a, b in zip(deps, deps[1:])):
        raise DecodeError("entry's dependencies are not sorted")
    nonce = buf[p : p + NONCE_SIZE]
    payload_hash = buf[p + NONCE_SIZE : p + NONCE_SIZE + HASH_SIZE]
    p += NONCE_SIZE + HASH_SIZE
    header = buf[start:p]
    signature = buf[p : p + SIG_SIZE]
    p += SIG_SIZE
    if p >= n:
        raise DecodeError("entry is truncated")
    flag = buf[p]
    p += 1
    ciphertext: bytes | None
    if flag == 0:
        ciphertext = None
    elif flag == 1:
        length = buf[p] if p < n else 0x80
        if length < 0x80:
            p += 1
        else:
            length, p = read_uint(buf, p)
        if length > MAX_CIPHERTEXT:
            raise DecodeError("entry payload is too large")
        if p + length > n:
            raise DecodeError("entry is truncated")
        ciphertext = buf[p : p + length]
        p += length
    else:
        raise DecodeError("bad payload flag")
    if seq >= 1 << 62 or epoch >= 1 << 31:
        raise DecodeError("entry counter out of range")
    entry = Entry(room_id, author, seq, prev, epoch, deps, nonce, payload_hash, signature, ciphertext)
    entry._header = header
    return entry, p


def decode_one(buf: bytes) -> Entry:
    """Parse a buffer that holds exactly one entry."""
    entry, pos = decode_entry(buf)
    if pos != len(buf):
        raise DecodeError("trailing bytes after entry")
    return entry
