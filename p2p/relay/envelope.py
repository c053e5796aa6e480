"""Sealed, padded envelopes: what the relay carries and stores, opaque to it.

    envelope = nonce (24 random bytes) | XChaCha20-Poly1305(key, nonce, padded, ad="hubbub-envelope-v1")
    padded   = length:u32be | plaintext | zero bytes up to the bucket

The whole envelope is exactly one of `BUCKETS` bytes long (1, 4, 16, 64 or 256 KiB), so its size
says only which bucket the plaintext fell in. The zero padding is checked on opening: an envelope
opens to one plaintext only.
"""

from __future__ import annotations

import os
import struct

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError

from p2p.relay.errors import RelayError

KEY_SIZE = 32
NONCE_SIZE = 24
MAC_SIZE = 16
LENGTH_SIZE = 4
OVERHEAD = NONCE_SIZE + MAC_SIZE + LENGTH_SIZE
BUCKETS: tuple[int, ...] = (1024, 4096, 16384, 65536, 262144)
"""Every size an envelope may have, in bytes."""
MAX_PLAINTEXT = BUCKETS[-1] - OVERHEAD
"""The largest plaintext one envelope holds."""
_AD = b"hubbub-envelope-v1"
_U32 = struct.Struct(">I")


def bucket_for(size: int) -> int:
    """The envelope size a plaintext of `size` bytes is sealed into; ValueError if none is big enough."""
    for bucket in BUCKETS:
        if size + OVERHEAD <= bucket:
            return bucket
    raise ValueError(f"a plaintext of {size} bytes is over the {MAX_PLAINTEXT}-byte envelope limit")


def seal(key: bytes, plaintext: bytes) -> bytes:
    """Seal `plaintext` under `key` (32 bytes), padded to a bucket; ValueError if it is too big."""
    if len(key) != KEY_SIZE:
        raise ValueError(f"an envelope key is {KEY_SIZE} bytes, not {len(key)}")
    bucket = bucket_for(len(plaintext))
    padded = _U32.pack(len(plaintext)) + bytes(plaintext) + bytes(bucket - OVERHEAD - len(plaintext))
    nonce = os.urandom(NONCE_SIZE)
    return nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(padded, _AD, nonce, key)


def open_(key: bytes, envelope: bytes) -> bytes:
    """The plaintext of `envelope`; `RelayError` for anything wrong with it, and nothing else."""
    try:
        return _open(key, envelope)
    except RelayError:
        raise
    except Exception:  # defensive: nothing else may escape
        raise RelayError("an envelope could not be opened") from None


def _open(key: bytes, envelope: bytes) -> bytes:
    if not isinstance(envelope, (bytes, bytearray, memoryview)) or len(envelope) not in BUCKETS:
        raise RelayError("an envelope has a size no sealed envelope has")
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise RelayError("an envelope key has the wrong size")
    data = bytes(envelope)
    try:
        padded = crypto_aead_xchacha20poly1305_ietf_decrypt(data[NONCE_SIZE:], _AD, data[:NONCE_SIZE], key)
    except CryptoError:
        raise RelayError("an envelope was altered or sealed under another key") from None
    (length,) = _U32.unpack_from(padded, 0)
    if length > len(padded) - LENGTH_SIZE:
        raise RelayError("an envelope's length runs past its end")
    end = LENGTH_SIZE + length
    if padded[end:] != bytes(len(padded) - end):
        raise RelayError("an envelope's padding is not zeros")
    return padded[LENGTH_SIZE:end]
