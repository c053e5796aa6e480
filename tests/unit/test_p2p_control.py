"""Session control protocol in memory: challenge-response bound to DTLS fingerprints, room matching."""

from __future__ import annotations

import os

import pytest
from nacl.signing import SigningKey

from p2p.control import (
    Authenticated,
    ControlEvent,
    ControlProtocol,
    ControlState,
    Matched,
    PeerClosed,
    Role,
    Unmatched,
)
from p2p.errors import AuthError, FrameError
from p2p.frames import FrameType, encode_frame
from p2p.rooms import RoomSecret

FP_D, FP_L = os.urandom(32), os.urandom(32)


def pair(
    d_secrets: list[RoomSecret] = [],
    l_secrets: list[RoomSecret] = [],
    *,
    d_claims_fp: bytes = FP_D,
    l_key: SigningKey | None = None,
) -> tuple[ControlProtocol, ControlProtocol, SigningKey, SigningKey]:
    dk, lk = SigningKey.generate(), SigningKey.generate()
    signer = l_key or lk
    dialer = ControlProtocol(dk, Role.DIALER, bytes(lk.verify_key), d_claims_fp, FP_L, d_secrets)
    listener = ControlProtocol(signer, Role.LISTENER, bytes(dk.verify_key), FP_L, FP_D, l_secrets)
    return dialer, listener, dk, lk


def pump(a: ControlProtocol, b: ControlProtocol) -> None:
    for _ in range(10):
        out_a, out_b = a.data_to_send(), b.data_to_send()
        if not out_a and not out_b:
            return
        for data in out_a:
            b.receive(data)
        for data in out_b:
            a.receive(data)


def events(p: ControlProtocol) -> list[ControlEvent]:
    out = []
    while (e := p.next_event()) is not None:
        out.append(e)
    return out


def test_mutual_authentication_and_room_match() -> None:
    shared = RoomSecret(b"room", b"secret", "room")
    d, l, _, _ = pair([shared, RoomSecret(b"mine", b"m", "room")], [shared])
    d.start()
    l.start()
    pump(d, l)
    assert d.state is l.state is ControlState.AUTHENTICATED
    assert events(d) == [Authenticated(), Matched(b"room", "room", "room")]
    assert events(l) == [Authenticated(), Matched(b"room", "room", "room")]


def test_proof_over_another_dtls_session_is_rejected() -> None:
    d, l, _, _ = pair(d_claims_fp=os.urandom(32))  # dialer signs a fingerprint the listener did not see
    d.start()
    l.start()
    with pytest.raises(AuthError):
        pump(d, l)


def test_proof_by_the_wrong_key_is_rejected() -> None:
    d, l, _, _ = pair(l_key=SigningKey.generate())  # listener is not who signaling said
    d.start()
    l.start()
    with pytest.raises(AuthError):
        pump(d, l)


def test_out_of_place_frames_are_frame_errors() -> None:
    d, l, _, _ = pair()
    d.start()
    with pytest.raises(FrameError):
        d.receive(encode_frame(FrameType.TOKENS, b""))  # tokens before authentication
    with pytest.raises(FrameError):
        d.receive(encode_frame(FrameType.DATA, b"", b"x"))
    with pytest.raises(FrameError):
        d.receive(b"\x01\x10\x00\x00\x00\x05short")  # challenge with a short nonce
    with pytest.raises(FrameError):
        d.receive(b"garbage")


def test_bad_token_list_is_a_frame_error() -> None:
    d, l, _, _ = pair()
    d.start()
    l.start()
    pump(d, l)
    with pytest.raises(FrameError):
        d.receive(encode_frame(FrameType.TOKENS, b"not whole entries"))


def test_changing_secrets_rematches() -> None:
    shared = RoomSecret(b"room", b"secret", "room")
    invite = RoomSecret(b"room2", b"inv", "invite:1")
    d, l, _, _ = pair([shared], [shared])
    d.start()
    l.start()
    pump(d, l)
    events(d)
    events(l)
    l.set_secrets([invite])
    d.set_secrets([shared, RoomSecret(b"room2", b"inv", "room")])
    pump(d, l)
    assert set(events(d)) == {Unmatched(b"room", "room", "room"), Matched(b"room2", "room", "invite:1")}
    assert set(events(l)) == {Unmatched(b"room", "room", "room"), Matched(b"room2", "invite:1", "room")}


def test_ping_pong_and_bye() -> None:
    d, l, _, _ = pair()
    d.start()
    l.start()
    pump(d, l)
    events(l)
    d.ping(b"12345678")
    pump(d, l)
    d.close("bye now")
    pump(d, l)
    assert events(l) == [PeerClosed("bye now")]
    assert l.state is ControlState.CLOSED


def test_a_challenge_that_arrives_before_our_channel_opened_is_answered_not_dropped() -> None:
    # Under loss, the peer's CHALLENGE can be delivered before our own "channel open" event ran.
    shared = RoomSecret(b"room", b"secret", "room")
    dialer, listener, _, _ = pair([shared], [shared])
    listener.start()
    for data in listener.data_to_send():
        dialer.receive(data)  # the dialer never called start(): it challenges now, then proves
    assert dialer.state is ControlState.PROVING
    dialer.start()  # the late open event changes nothing
    pump(dialer, listener)
    assert dialer.state is listener.state is ControlState.AUTHENTICATED
    assert Authenticated() in events(dialer) and Authenticated() in events(listener)
