"""Ban logic: repeated malformed frames within a window ban a peer for a while."""

from __future__ import annotations

from p2p.peer_score import PeerScore


def test_ban_after_limit_within_window_and_expiry() -> None:
    score = PeerScore(limit=3, window=10.0, ban_seconds=5.0)
    peer = b"p" * 32
    assert not score.record_malformed(peer, 0.0)
    assert not score.record_malformed(peer, 1.0)
    assert score.record_malformed(peer, 2.0)
    assert score.is_banned(peer, 6.9)
    assert score.ban_remaining(peer, 3.0) == 4.0
    assert score.ban_reason(peer) == "3 malformed frames"
    assert not score.is_banned(peer, 7.0)
    assert score.malformed_total(peer) == 3


def test_strikes_outside_the_window_are_forgotten() -> None:
    score = PeerScore(limit=3, window=10.0, ban_seconds=5.0)
    peer = b"q" * 32
    for now in (0.0, 11.0, 22.0, 33.0):
        assert not score.record_malformed(peer, now)
    assert not score.is_banned(peer, 33.0)


def test_peers_are_counted_separately_and_explicit_ban() -> None:
    score = PeerScore(limit=2, window=10.0, ban_seconds=1.0)
    score.record_malformed(b"a", 0.0)
    assert not score.record_malformed(b"b", 0.0)
    score.ban(b"c", 0.0, "bad proof")
    assert score.is_banned(b"c", 0.5) and not score.is_banned(b"a", 0.5)
