"""A file's cryptography: a random key per file, each chunk sealed with XChaCha20-Poly1305, named by the hash of its
ciphertext (SHA-256), and a root (BLAKE2b) that names the whole list of chunk ids (the manifest carries the root and the key).

The nonce of chunk i is derived from i (the key is never used for another file), and the associated data binds the
chunk to its place and the file's size, so chunks cannot be swapped or moved between files.
"""

from __future__ import annotations

import hashlib
import os
import struct

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt, crypto_aead_xchacha20poly1305_ietf_encrypt
from nacl.exceptions import CryptoError

CHUNK_SIZE = 1 << 20  # plaintext bytes per chunk (the last one may be shorter)
TAG_SIZE = 16
MAX_SEALED = CHUNK_SIZE + TAG_SIZE
ID_SIZE = 32
KEY_SIZE = 32
_PLACE = struct.Struct(">QQ")


class ChunkError(ValueError):
    """A chunk that does not match its id, or does not open under the file's key."""


def new_file_key() -> bytes:
    return os.urandom(KEY_SIZE)


def chunk_count(size: int) -> int:
    """How many chunks a file of `size` bytes has (an empty file has one, empty, chunk)."""
    return max(1, -(-size // CHUNK_SIZE))


def chunk_length(size: int, index: int) -> int:
    """The plaintext length of chunk `index` of a file of `size` bytes."""
    return max(0, min(CHUNK_SIZE, size - index * CHUNK_SIZE))


def _nonce(index: int) -> bytes:
    return b"hubbub-chunk" + index.to_bytes(12, "big")


def seal_chunk(key: bytes, size: int, index: int, plain: bytes) -> bytes:
    return crypto_aead_xchacha20poly1305_ietf_encrypt(plain, _PLACE.pack(index, size), _nonce(index), key)


def open_chunk(key: bytes, size: int, index: int, sealed: bytes) -> bytes:
    """The plaintext of a chunk; raises ChunkError if it does not open or has the wrong length."""
    try:
        plain = crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, _PLACE.pack(index, size), _nonce(index), key)
    except CryptoError:
        raise ChunkError("chunk does not open under the file's key") from None
    if len(plain) != chunk_length(size, index):
        raise ChunkError("chunk has the wrong length")
    return plain


def chunk_id(sealed: bytes | memoryview) -> bytes:
    """The name of a chunk: SHA-256 of its ciphertext (with the CPU's SHA instructions, about twice as fast as
    BLAKE2b here: `bench files` hashes every chunk it receives)."""
    return hashlib.sha256(sealed).digest()


def file_root(size: int, ids: list[bytes]) -> bytes:
    """The root of a file: a hash over its size and its chunk ids in order (what the manifest names)."""
    h = hashlib.blake2b(digest_size=ID_SIZE, person=b"hubbub-root-v1")
    h.update(size.to_bytes(8, "big"))
    for cid in ids:
        h.update(cid)
    return h.digest()


def split_ids(blob: bytes) -> list[bytes]:
    return [blob[i:i + ID_SIZE] for i in range(0, len(blob), ID_SIZE)]


def check_list(root: bytes, size: int, blob: bytes) -> list[bytes]:
    """The chunk ids of a hash list a peer sent, once it matches the root and the size; ChunkError otherwise."""
    if len(blob) != chunk_count(size) * ID_SIZE:
        raise ChunkError("hash list has the wrong length")
    ids = split_ids(blob)
    if file_root(size, ids) != root:
        raise ChunkError("hash list does not match the file's root")
    return ids
