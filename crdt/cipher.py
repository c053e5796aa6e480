"""Room-key encryption of entry payloads, and sealing room keys to a member's identity."""

from __future__ import annotations

import hashlib
import os

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from .errors import DecodeError

ROOM_KEY_SIZE = 32


def new_room_key() -> bytes:
    return os.urandom(ROOM_KEY_SIZE)


def new_nonce() -> bytes:
    """A fresh 8-byte salt; with the entry's author, sequence and epoch it makes a unique cipher nonce."""
    return os.urandom(8)


def _aad(room_id: bytes, author: bytes, seq: int, epoch: int) -> bytes:
    return room_id + author + seq.to_bytes(8, "big") + epoch.to_bytes(4, "big")


def _nonce(salt: bytes, aad: bytes) -> bytes:
    return hashlib.blake2b(salt + aad, digest_size=24).digest()


_blake2b = hashlib.blake2b


def seal_payload(key: bytes, nonce: bytes, plaintext: bytes, room_id: bytes, author: bytes, seq: int, epoch: int) -> bytes:
    """Encrypt a payload with the room key, bound to its place in the log; `nonce` is the entry's salt."""
    aad = _aad(room_id, author, seq, epoch)
    return crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, _nonce(nonce, aad), key)


try:  # the raw binding: the public wrapper's argument checks cost more than the decryption itself
    from nacl._sodium import ffi as _ffi, lib as _lib
except ImportError:  # pragma: no cover - an older or repackaged PyNaCl
    _ffi = _lib = None


def _decrypt(ciphertext: bytes, aad: bytes, nonce: bytes, key: bytes) -> bytes:
    if _lib is None or len(ciphertext) < 16 or len(key) != 32:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    out = bytearray(len(ciphertext) - 16)  # the plaintext is exactly the ciphertext less its tag
    rc = _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(_ffi.from_buffer(out) if out else _ffi.new("unsigned char[]", 1),
                                                         _ffi.NULL, _ffi.NULL, ciphertext, len(ciphertext), aad, len(aad),
                                                         nonce, key)
    if rc != 0:
        raise CryptoError("decryption failed")
    return bytes(out)


def open_payload(key: bytes, nonce: bytes, ciphertext: bytes, room_id: bytes, author: bytes, seq: int, epoch: int) -> bytes:
    """Decrypt a payload; raises DecodeError when the key or the bytes are wrong."""
    try:
        aad = room_id + author + seq.to_bytes(8, "big") + epoch.to_bytes(4, "big")  # as _aad and _nonce, inline
        return _decrypt(ciphertext, aad, _blake2b(nonce + aad, digest_size=24).digest(), key)
    except (CryptoError, ValueError) as exc:
        raise DecodeError("payload does not decrypt with the room key") from exc


def seal_to_member(member: bytes, secret: bytes) -> bytes:
    """Encrypt `secret` so only the holder of identity `member` (an Ed25519 public key) can read it."""
    public = VerifyKey(member).to_curve25519_public_key()
    return SealedBox(PublicKey(bytes(public))).encrypt(secret)


def open_sealed(identity: SigningKey, sealed: bytes) -> bytes:
    """Open a secret sealed to our identity; raises DecodeError if it was not for us."""
    private = identity.to_curve25519_private_key()
    try:
        return SealedBox(PrivateKey(bytes(private))).decrypt(sealed)
    except (CryptoError, ValueError) as exc:
        raise DecodeError("sealed secret is not for this identity") from exc
