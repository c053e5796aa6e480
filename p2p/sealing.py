"""libsodium's secretstream (XChaCha20-Poly1305) over buffers: sealing into and opening from bytearrays without the
copies PyNaCl's wrappers make (a megabyte copied costs about as much as sealing it on these machines).

It calls the libsodium that PyNaCl bundles (`nacl._sodium`) when that module is there, and PyNaCl's public
functions otherwise; both give the same bytes (`tests/unit/test_p2p_streams.py`). The calls release the GIL, so
the stream seals and opens in worker threads while the event loop moves other bytes.
"""

from __future__ import annotations

from typing import Any

from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_ABYTES as ABYTES,
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
)
from nacl.exceptions import CryptoError

try:  # the bundled libsodium: buffers in, buffers out
    from nacl._sodium import ffi as _ffi
    from nacl._sodium import lib as _lib
except ImportError:  # pragma: no cover - every PyNaCl release so far has it
    _ffi = _lib = None

Buffer = bytes | bytearray | memoryview


class SealError(ValueError):
    """A message that does not open under the stream's key (or a header that does not start one)."""


class Sealer:
    """The sending half: one key, one state, messages sealed in order."""

    def __init__(self, key: bytes, *, direct: bool = True) -> None:
        self._state = crypto_secretstream_xchacha20poly1305_state()
        self.header = crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._direct = direct and _lib is not None

    def seal(self, message: Buffer, prefix: int = 0) -> bytearray:
        """The sealed message, after `prefix` spare bytes left at the front (for a length the caller writes)."""
        n = len(message)
        if not self._direct:
            out = bytearray(prefix)
            out += crypto_secretstream_xchacha20poly1305_push(self._state, bytes(message))
            return out
        out = bytearray(prefix + n + ABYTES)
        target = _ffi.cast("unsigned char *", _ffi.from_buffer(out)) + prefix
        source: Any = _ffi.from_buffer(message) if n else _ffi.NULL
        rc = _lib.crypto_secretstream_xchacha20poly1305_push(self._state.statebuf, target, _ffi.NULL, source, n,
                                                             _ffi.NULL, 0, 0)
        if rc != 0:
            raise SealError("sealing failed")
        return out


class Opener:
    """The receiving half: one key, the peer's header, messages opened in order."""

    def __init__(self, key: bytes, header: bytes, *, direct: bool = True) -> None:
        self._state = crypto_secretstream_xchacha20poly1305_state()
        try:
            crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        except (CryptoError, ValueError, TypeError) as exc:
            raise SealError(f"bad stream header ({exc})") from None
        self._direct = direct and _lib is not None
        self._tag: Any = _ffi.new("unsigned char *") if self._direct else None

    def open(self, sealed: Buffer) -> tuple[bytearray, int]:
        """(the message, its tag); SealError if it does not open."""
        n = len(sealed)
        if n < ABYTES:
            raise SealError("message is too short")
        if not self._direct:
            try:
                plain, tag = crypto_secretstream_xchacha20poly1305_pull(self._state, bytes(sealed))
            except (CryptoError, ValueError, TypeError):
                raise SealError("a stream message did not open") from None
            return bytearray(plain), int(tag)
        out = bytearray(n - ABYTES)
        target: Any = _ffi.from_buffer("unsigned char[]", out) if out else _ffi.new("unsigned char[]", 1)
        rc = _lib.crypto_secretstream_xchacha20poly1305_pull(self._state.statebuf, target, _ffi.NULL, self._tag,
                                                             _ffi.from_buffer(sealed), n, _ffi.NULL, 0)
        if rc != 0:
            raise SealError("a stream message did not open")
        return out, int(self._tag[0])
