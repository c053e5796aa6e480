"""Fixed keys, nonces and sample values, so the fuzz targets and the seed corpus are deterministic."""

from __future__ import annotations

import hashlib

from nacl.signing import SigningKey


def key(label: str) -> SigningKey:
    """A signing key derived from `label`: the same on every run."""
    return SigningKey(hashlib.blake2b(label.encode(), digest_size=32, person=b"hubbub-fuzz").digest())


def blob(label: str, size: int) -> bytes:
    """`size` deterministic bytes derived from `label`."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.blake2b(f"{label}/{counter}".encode(), digest_size=64).digest()
        counter += 1
    return out[:size]


ME = key("me")  # the node whose decoders are fuzzed
PEER = key("peer")  # an honest peer
ATTACKER = key("attacker")  # a peer with its own valid key that signs whatever it likes
OWNER = key("owner")
ADMIN = key("admin")
MEMBER = key("member")

ROOM_KEY = blob("room key", 32)
ROOM_ID = blob("room id", 32)
FINGERPRINT_ME = blob("fingerprint me", 32)
FINGERPRINT_PEER = blob("fingerprint peer", 32)
NONCE_ME = blob("nonce me", 32)
NONCE_PEER = blob("nonce peer", 32)


def pub(signing: SigningKey) -> bytes:
    return bytes(signing.verify_key)


def sdp_with(fingerprint: bytes) -> str:
    """A small SDP offer carrying `fingerprint` the way aiortc writes it."""
    colons = ":".join(f"{b:02X}" for b in fingerprint)
    return (
        "v=0\r\no=- 3900000000 3900000000 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "a=group:BUNDLE 0\r\na=msid-semantic:WMS *\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        "a=mid:0\r\na=sctp-port:5000\r\na=max-message-size:65536\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\n"
        f"a=fingerprint:sha-256 {colons}\r\na=setup:actpass\r\n"
    )


def sealed_to(recipient: bytes, message: bytes, label: str = "seal") -> bytes:
    """`message` sealed to the Ed25519 key `recipient` like crdt.cipher.seal_to_member (a libsodium
    sealed box), but with an ephemeral key derived from `label`, so the bytes are the same every run."""
    from nacl.bindings import crypto_box, crypto_scalarmult_base
    from nacl.signing import VerifyKey

    ephemeral_secret = blob(label, 32)
    ephemeral = crypto_scalarmult_base(ephemeral_secret)
    public = bytes(VerifyKey(recipient).to_curve25519_public_key())
    nonce = hashlib.blake2b(ephemeral + public, digest_size=24).digest()
    return ephemeral + crypto_box(message, nonce, public, ephemeral_secret)
