"""Relay derivations (app/relay/keys.py): tokens rotate per hour and differ per room, per rotation and per invite."""

from __future__ import annotations

import secrets
import zlib

import pytest

from app.relay.keys import HOUR, MailboxKeys, Rendezvous, hour_of


def test_tokens_rotate_every_hour_and_are_stable_within_one() -> None:
    rdv = Rendezvous.for_room_key(secrets.token_bytes(32))
    hours = [rdv.token(h) for h in range(1000, 1100)]
    assert len(set(hours)) == 100 and all(len(t) == 16 for t in hours)
    assert rdv.token(1000) == rdv.token(1000)
    assert hour_of(1000 * HOUR) == hour_of(1000 * HOUR + HOUR - 1) == 1000 != hour_of(1001 * HOUR)


def test_the_subscribed_set_spans_the_clock_skew_and_shares_one_seal_key() -> None:
    rdv = Rendezvous.for_room_key(secrets.token_bytes(32))
    got = rdv.tokens(500)
    assert list(got) == [rdv.token(499), rdv.token(500), rdv.token(501)]
    assert set(got.values()) == {rdv.seal_key} and len(rdv.seal_key) == 32
    assert rdv.seal_key not in got  # the key that seals is not a token the relay sees


def test_every_value_differs_per_room_per_rotation_and_per_invite() -> None:
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)  # two rooms, or one room before and after a rotation
    a, b = Rendezvous.for_room_key(k1), Rendezvous.for_room_key(k2)
    invite = Rendezvous.for_invite(k1)  # even an invite secret equal to a room key gives other tokens
    values = [a.token(7), b.token(7), invite.token(7), a.seal_key[:16], b.seal_key[:16], invite.seal_key[:16]]
    m1, m2 = MailboxKeys.for_room_key(k1), MailboxKeys.for_room_key(k2)
    values += [m1.auth[:16], m1.wrap[:16], m2.auth[:16], m2.wrap[:16], k1[:16], k2[:16]]
    assert len(set(values)) == len(values)
    assert m1 == MailboxKeys.for_room_key(k1) and m1.label != m2.label
    assert m1.label not in (m1.auth.hex(), m1.wrap.hex()) and len(m1.label) == 16


def test_tokens_look_random() -> None:
    """A thousand tokens: every bit is set about half the time, and they do not compress."""
    rdv = Rendezvous.for_room_key(bytes(32))  # even from an all-zero key
    blob = b"".join(rdv.token(h) for h in range(1000))
    ones = sum(bin(byte).count("1") for byte in blob)
    assert abs(ones / (len(blob) * 8) - 0.5) < 0.01
    assert len(zlib.compress(blob, 9)) > len(blob) * 0.99


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_a_key_of_the_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="32-byte key"):
        Rendezvous.for_room_key(bytes(size))
    with pytest.raises(ValueError, match="32-byte key"):
        MailboxKeys.for_room_key(bytes(size))
