"""Envelopes: seal/open round trips, sizes only in buckets, and anything altered or foreign raises RelayError alone."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2p.relay.envelope import BUCKETS, MAX_PLAINTEXT, OVERHEAD, bucket_for, open_, seal
from p2p.relay.errors import RelayError

KEY = bytes(range(32))


@pytest.mark.parametrize("size", [0, 1, 1024 - OVERHEAD, 1024 - OVERHEAD + 1, 5000, MAX_PLAINTEXT])
def test_round_trip_and_bucket(size: int) -> None:
    plain = os.urandom(size)
    sealed = seal(KEY, plain)
    assert len(sealed) == bucket_for(size) and len(sealed) in BUCKETS
    assert open_(KEY, sealed) == plain


def test_sizes_say_only_the_bucket() -> None:
    assert {len(seal(KEY, b"x" * n)) for n in (0, 10, 500, 1024 - OVERHEAD)} == {1024}
    assert len(seal(KEY, b"x" * (1025 - OVERHEAD))) == 4096


def test_too_big_and_bad_key_are_value_errors_when_sealing() -> None:
    with pytest.raises(ValueError, match="envelope limit"):
        seal(KEY, b"x" * (MAX_PLAINTEXT + 1))
    with pytest.raises(ValueError):
        seal(b"short", b"x")


def test_two_seals_differ_and_a_wrong_key_fails() -> None:
    a, b = seal(KEY, b"hello"), seal(KEY, b"hello")
    assert a != b
    with pytest.raises(RelayError, match="another key"):
        open_(os.urandom(32), a)


def test_padding_must_be_zeros() -> None:
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

    nonce = os.urandom(24)
    padded = (3).to_bytes(4, "big") + b"abc" + b"\x01" + bytes(1024 - OVERHEAD - 4)
    forged = nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(padded, b"hubbub-envelope-v1", nonce, KEY)
    with pytest.raises(RelayError, match="padding"):
        open_(KEY, forged)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048), st.integers(0, 1023), st.integers(1, 255))
def test_any_alteration_fails_cleanly(plain: bytes, where: int, flip: int) -> None:
    sealed = bytearray(seal(KEY, plain[:900]))
    sealed[where] ^= flip
    with pytest.raises(RelayError):
        open_(KEY, bytes(sealed))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1100), st.binary(max_size=40))
def test_garbage_raises_only_relay_error(data: bytes, key: bytes) -> None:
    with pytest.raises(RelayError):
        open_(key, data)
