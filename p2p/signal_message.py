"""Signed signaling messages: SDP offers and answers addressed to a public key, signed by the sender.

An OFFER or ANSWER frame carries, in order: sender public key, recipient public key, session id,
SDP, the sender's DTLS fingerprint (SHA-256, 32 bytes) and an Ed25519 signature by the sender over
a context string and the frame's other fields. Messages are addressed to a public key, so a relay
can route them without reading them. Verification checks the signature, the recipient, and that
the fingerprint signed is the one in the SDP, which aiortc then enforces during the DTLS handshake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from p2p.errors import FrameError, SignalingError
from p2p.frames import (
    FINGERPRINT_SIZE,
    KEY_SIZE,
    SESSION_ID_SIZE,
    SIGNATURE_SIZE,
    Frame,
    FrameType,
    encode_frame,
    exact_size,
    expect,
)

SIGNAL_CONTEXT = b"hubbub-signal-v1\x00"
_FINGERPRINT_LINE = re.compile(r"^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class SignalMessage:
    """A verified offer or answer."""

    kind: FrameType
    sender: bytes
    recipient: bytes
    session_id: bytes
    sdp: str
    fingerprint: bytes


def sdp_fingerprint(sdp: str) -> bytes:
    """The SHA-256 DTLS fingerprint in `sdp`; SignalingError if absent or if two disagree."""
    found: set[bytes] = set()
    for algorithm, value in _FINGERPRINT_LINE.findall(sdp):
        if algorithm.lower() != "sha-256":
            continue
        try:
            digest = bytes.fromhex(value.replace(":", ""))
        except ValueError:
            raise SignalingError("unparsable DTLS fingerprint in SDP") from None
        if len(digest) != FINGERPRINT_SIZE:
            raise SignalingError("DTLS fingerprint of the wrong size in SDP")
        found.add(digest)
    if len(found) != 1:
        raise SignalingError(f"SDP must carry exactly one sha-256 fingerprint, found {len(found)}")
    return found.pop()


def _signed_part(kind: FrameType, fields: tuple[bytes, ...]) -> bytes:
    return SIGNAL_CONTEXT + bytes((kind,)) + b"".join(len(f).to_bytes(4, "big") + f for f in fields)


def sign_signal(
    identity: nacl.signing.SigningKey,
    kind: FrameType,
    recipient: bytes,
    session_id: bytes,
    sdp: str,
    *,
    fingerprint: bytes | None = None,
) -> bytes:
    """Encode a signed OFFER or ANSWER frame; the fingerprint defaults to the SDP's own."""
    if kind not in (FrameType.OFFER, FrameType.ANSWER):
        raise ValueError("only offers and answers are signed")
    if fingerprint is None:
        fingerprint = sdp_fingerprint(sdp)
    fields = (
        bytes(identity.verify_key),
        recipient,
        session_id,
        sdp.encode("utf-8"),
        fingerprint,
    )
    signature = identity.sign(_signed_part(kind, fields)).signature
    return encode_frame(kind, *fields, signature)


def verify_signal(frame: Frame, *, me: bytes) -> SignalMessage:
    """Check a decoded OFFER/ANSWER frame; raises SignalingError (or FrameError) if it is not valid."""
    expect(frame, FrameType.OFFER, FrameType.ANSWER)
    sender, recipient, session_id, sdp_bytes, fingerprint, signature = frame.fields
    exact_size(sender, KEY_SIZE, "sender key")
    exact_size(recipient, KEY_SIZE, "recipient key")
    exact_size(session_id, SESSION_ID_SIZE, "session id")
    exact_size(fingerprint, FINGERPRINT_SIZE, "fingerprint")
    exact_size(signature, SIGNATURE_SIZE, "signature")
    try:
        nacl.signing.VerifyKey(sender).verify(
            _signed_part(frame.type, frame.fields[:-1]), signature
        )
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError):
        raise SignalingError("bad signature on signaling message") from None
    if recipient != me:
        raise SignalingError("signaling message addressed to another key")
    try:
        sdp = sdp_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("SDP is not UTF-8") from None
    if sdp_fingerprint(sdp) != fingerprint:
        raise SignalingError("DTLS fingerprint in the SDP differs from the signed one")
    return SignalMessage(frame.type, sender, recipient, session_id, sdp, fingerprint)
