"""Fuzz targets for p2p/relay/: the relay's wire frames (what a relay and a node read from each other) and
the inside of a sealed envelope (what a node reads after opening one under its key)."""

from __future__ import annotations

import struct

from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

from p2p.relay.envelope import BUCKETS, MAC_SIZE, NONCE_SIZE, open_
from p2p.relay.errors import RelayError
from p2p.relay.wire import Frame, Kind, WireError, decode, encode, u32, u64

from .fixtures import blob
from .harness import Target

Seeds = dict[str, list[tuple[str, bytes]]]
KEY = blob("relay envelope key", 32)
NONCE = blob("relay envelope nonce", NONCE_SIZE)
_AD = b"hubbub-envelope-v1"
INNER_MAX = BUCKETS[1] - NONCE_SIZE - MAC_SIZE


def _encode_frame(frame: Frame) -> bytes:
    return encode(frame.kind, frame.request, *frame.fields, items=frame.items)


def _inner_size(size: int) -> int:
    for bucket in BUCKETS:
        if size + NONCE_SIZE + MAC_SIZE <= bucket:
            return bucket - NONCE_SIZE - MAC_SIZE
    raise RelayError("too big for an envelope")


def _open_inner(data: bytes) -> bytes:
    """`data` as the padded inside of an envelope (zero-filled to its bucket), sealed under KEY, then opened."""
    padded = bytes(data) + bytes(_inner_size(len(data)) - len(data))
    return open_(KEY, NONCE + crypto_aead_xchacha20poly1305_ietf_encrypt(padded, _AD, NONCE, KEY))


def _encode_inner(plaintext: bytes) -> bytes:
    size = _inner_size(len(plaintext) + 4)
    return struct.pack(">I", len(plaintext)) + plaintext + bytes(size - 4 - len(plaintext))


TARGETS = [
    Target("p2p.relay.wire.decode", decode, (WireError,), encode=_encode_frame, canonical=True, max_len=8192),
    Target("p2p.relay.envelope.open_", _open_inner, (RelayError,), encode=_encode_inner, canonical=False,
           max_len=INNER_MAX),
]


def seeds() -> Seeds:
    token, handle, auth = blob("token", 16), blob("handle", 16), blob("auth", 32)
    frames = [
        ("subscribe", encode(Kind.SUBSCRIBE, 1, items=[token, blob("token 2", 16)])),
        ("forward", encode(Kind.FORWARD, 0, token, handle, blob("sealed", 200))),
        ("put", encode(Kind.PUT, 2, auth, items=[blob("envelope", 1024), blob("envelope 2", 1024)])),
        ("get", encode(Kind.GET, 3, auth, u64(5), u32(500))),
        ("turn", encode(Kind.TURN, 4)),
        ("welcome", encode(Kind.WELCOME, 0, u32(1 << 20), u32(256), b"\x01")),
        ("error", encode(Kind.ERROR, 5, b"quota", "this mailbox is full".encode())),
        ("peers", encode(Kind.PEERS, 0, token, handle, items=[blob("other", 16)])),
        ("deliver", encode(Kind.DELIVER, 0, token, handle, blob("sealed", 300))),
        ("stored", encode(Kind.STORED, 2, items=[u64(1), u64(2)])),
        ("envelopes", encode(Kind.ENVELOPES, 3, u64(2), items=[u64(1) + blob("e1", 1024), u64(2) + blob("e2", 64)])),
        ("credentials", encode(Kind.CREDENTIALS, 4, b"1700003600:0123456789abcdef", b"cGFzc3dvcmQ=", u32(3600),
                               b"turn:198.18.0.2:3478?transport=udp\nturn:198.18.0.2:3478?transport=tcp")),
        ("bad-version", b"\x02" + encode(Kind.TURN, 4)[1:]),
        ("truncated", encode(Kind.GET, 3, auth, u64(5), u32(500))[:-2]),
    ]
    inner = [("empty", _encode_inner(b"")), ("text", _encode_inner(b"an entry")),
             ("long", _encode_inner(blob("entry", 2000))), ("bad-padding", _encode_inner(b"x")[:-1] + b"\x01"),
             ("bad-length", struct.pack(">I", 5000) + b"abc")]
    return {"p2p.relay.wire.decode": frames, "p2p.relay.envelope.open_": inner}
