"""Signed offers and answers: signatures, recipients and the DTLS fingerprint are all checked."""

from __future__ import annotations

import os

import pytest
from nacl.signing import SigningKey

from p2p.errors import FrameError, SignalingError
from p2p.frames import Frame, FrameType, decode_frame
from p2p.signal_message import sdp_fingerprint, sign_signal, verify_signal

FP = os.urandom(32)


def sdp(fp: bytes = FP) -> str:
    hexfp = ":".join(f"{b:02X}" for b in fp)
    return f"v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 {hexfp}\r\n"


def test_valid_offer_verifies() -> None:
    alice, bob = SigningKey.generate(), SigningKey.generate()
    me = bytes(bob.verify_key)
    msg = verify_signal(decode_frame(sign_signal(alice, FrameType.OFFER, me, b"s" * 16, sdp())), me=me)
    assert msg.sender == bytes(alice.verify_key)
    assert msg.fingerprint == FP
    assert msg.kind is FrameType.OFFER


def tamper(frame: Frame, index: int, value: bytes) -> Frame:
    fields = list(frame.fields)
    fields[index] = value
    return Frame(frame.type, tuple(fields))


def test_tampered_sdp_is_rejected() -> None:
    alice, bob = SigningKey.generate(), SigningKey.generate()
    me = bytes(bob.verify_key)
    frame = decode_frame(sign_signal(alice, FrameType.OFFER, me, b"s" * 16, sdp()))
    forged = tamper(frame, 3, sdp(os.urandom(32)).encode())
    with pytest.raises(SignalingError, match="signature"):
        verify_signal(forged, me=me)
    impostor = tamper(frame, 0, bytes(SigningKey.generate().verify_key))
    with pytest.raises(SignalingError, match="signature"):
        verify_signal(impostor, me=me)
    as_answer = Frame(FrameType.ANSWER, frame.fields)  # the kind is signed too
    with pytest.raises(SignalingError, match="signature"):
        verify_signal(as_answer, me=me)


def test_wrong_recipient_is_rejected() -> None:
    alice, bob = SigningKey.generate(), SigningKey.generate()
    frame = decode_frame(sign_signal(alice, FrameType.OFFER, bytes(bob.verify_key), b"s" * 16, sdp()))
    with pytest.raises(SignalingError, match="another key"):
        verify_signal(frame, me=bytes(SigningKey.generate().verify_key))


def test_signed_fingerprint_must_match_the_sdp() -> None:
    alice, bob = SigningKey.generate(), SigningKey.generate()
    me = bytes(bob.verify_key)
    data = sign_signal(alice, FrameType.OFFER, me, b"s" * 16, sdp(), fingerprint=os.urandom(32))
    with pytest.raises(SignalingError, match="fingerprint"):
        verify_signal(decode_frame(data), me=me)


def test_sdp_fingerprint_parsing() -> None:
    assert sdp_fingerprint(sdp()) == FP
    with pytest.raises(SignalingError):
        sdp_fingerprint("v=0\r\n")
    with pytest.raises(SignalingError):
        sdp_fingerprint(sdp() + sdp(os.urandom(32)))  # two different sha-256 fingerprints
    with pytest.raises(SignalingError):
        sdp_fingerprint("a=fingerprint:sha-256 AB:CD\r\n")


def test_bad_field_sizes_are_frame_errors() -> None:
    alice = SigningKey.generate()
    me = os.urandom(32)
    frame = decode_frame(sign_signal(alice, FrameType.OFFER, me, b"s" * 16, sdp()))
    with pytest.raises(FrameError):
        verify_signal(tamper(frame, 2, b"short"), me=me)
    with pytest.raises(FrameError):
        verify_signal(Frame(FrameType.HELLO, (me,)), me=me)
