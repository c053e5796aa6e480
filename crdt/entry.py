"""The signed entry: one change by one member, hash-chained to that member's previous entry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

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
            h = digest(self.header() + self.signature)
            object.__setattr__(self, "_hash", h)
        return h

    @property
    def redacted(self) -> bool:
        return self.ciphertext is None

    def encode(self) -> bytes:
        """Wire and file form: header, signature, then the ciphertext if present."""
        out = bytearray(self.header())
        out += self.signature
        if self.ciphertext is None:
            out.append(0)
        else:
            out.append(1)
            write_uint(out, len(self.ciphertext))
            out += self.ciphertext
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
        return self.ciphertext is None or digest(self.ciphertext) == self.payload_hash


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


def _uint(buf: bytes, pos: int, n: int) -> tuple[int, int]:
    if pos < n and buf[pos] < 0x80:
        return buf[pos], pos + 1
    return read_uint(buf, pos)


def decode_entry(buf: bytes, pos: int = 0) -> tuple[Entry, int]:
    """Parse one entry at `pos`; returns it and the position after it. Raises only DecodeError."""
    n = len(buf)
    if pos >= n:
        raise DecodeError("entry is empty")
    if buf[pos] != VERSION:
        raise DecodeError(f"unknown entry version {buf[pos]}")
    start = pos
    p = pos + 1 + 2 * KEY_SIZE
    if p > n:
        raise DecodeError("entry is truncated")
    room_id = bytes(buf[pos + 1 : pos + 1 + KEY_SIZE])
    author = bytes(buf[pos + 1 + KEY_SIZE : p])
    seq, p = _uint(buf, p, n)
    prev = bytes(buf[p : p + HASH_SIZE])
    epoch, p = _uint(buf, p + HASH_SIZE, n)
    ndeps, p = _uint(buf, p, n)
    if ndeps > MAX_DEPS:
        raise DecodeError("entry has too many dependencies")
    if ndeps == 1:  # the usual case: one control-frontier entry
        deps: tuple[bytes, ...] = (bytes(buf[p : p + HASH_SIZE]),)
    else:
        deps = tuple(bytes(buf[p + i * HASH_SIZE : p + (i + 1) * HASH_SIZE]) for i in range(ndeps))
    p += ndeps * HASH_SIZE
    if p > n:
        raise DecodeError("entry is truncated")
    if ndeps > 1 and any(a >= b for a, b in zip(deps, deps[1:])):
        raise DecodeError("entry's dependencies are not sorted")
    nonce = bytes(buf[p : p + NONCE_SIZE])
    payload_hash = bytes(buf[p + NONCE_SIZE : p + NONCE_SIZE + HASH_SIZE])
    p += NONCE_SIZE + HASH_SIZE
    header = bytes(buf[start:p])
    signature = bytes(buf[p : p + SIG_SIZE])
    p += SIG_SIZE
    if p >= n:
        raise DecodeError("entry is truncated")
    flag = buf[p]
    p += 1
    ciphertext: bytes | None
    if flag == 0:
        ciphertext = None
    elif flag == 1:
        length, p = _uint(buf, p, n)
        if length > MAX_CIPHERTEXT:
            raise DecodeError("entry payload is too large")
        if p + length > n:
            raise DecodeError("entry is truncated")
        ciphertext = bytes(buf[p : p + length])
        p += length
    else:
        raise DecodeError("bad payload flag")
    if seq >= 1 << 62 or epoch >= 1 << 31:
        raise DecodeError("entry counter out of range")
    entry = Entry(room_id, author, seq, prev, epoch, deps, nonce, payload_hash, signature, ciphertext)
    object.__setattr__(entry, "_header", header)
    return entry, p


def decode_one(buf: bytes) -> Entry:
    """Parse a buffer that holds exactly one entry."""
    entry, pos = decode_entry(buf)
    if pos != len(buf):
        raise DecodeError("trailing bytes after entry")
    return entry
