"""Rendezvous and limits, sans-IO: handles per token, replacement, expiry of tokens that stopped rotating, caps, rates."""

from __future__ import annotations

from p2p.relay.config import RelayLimits
from p2p.relay.limits import ByteBucket, HourlyQuota, Limits
from p2p.relay.rendezvous import Rendezvous

T1, T2, T3 = b"1" * 16, b"2" * 16, b"3" * 16


def test_handles_are_per_token_and_resolve_to_their_connection() -> None:
    r = Rendezvous(RelayLimits())
    changed, refused = r.subscribe("a", [T1, T2], 0.0)
    assert changed == {T1, T2} and refused == []
    r.subscribe("b", [T1], 0.0)
    ha1, ha2 = r.handle_of("a", T1), r.handle_of("a", T2)
    assert ha1 is not None and ha2 is not None and ha1 != ha2
    assert r.resolve(T1, ha1) == "a" and r.resolve(T2, ha1) is None
    assert sorted(c for c, _ in r.subscribers(T1)) == ["a", "b"]
    assert r.drop("b") == {T1} and [c for c, _ in r.subscribers(T1)] == ["a"]


def test_subscribe_replaces_and_keeps_handles_of_kept_tokens() -> None:
    r = Rendezvous(RelayLimits())
    r.subscribe("a", [T1, T2], 0.0)
    handle = r.handle_of("a", T2)
    changed, _ = r.subscribe("a", [T2, T3], 10.0)
    assert changed == {T1, T3}
    assert r.handle_of("a", T2) == handle and r.handle_of("a", T1) is None
    assert len(r) == 2 and r.tokens_of("a") == {T2, T3}
    r.subscribe("a", [], 11.0)
    assert len(r) == 0 and r.tokens_of("a") == set()


def test_unrenewed_and_too_old_tokens_expire() -> None:
    r = Rendezvous(RelayLimits(subscription_ttl=100.0, token_max_age=250.0))
    r.subscribe("a", [T1, T2], 0.0)
    r.subscribe("a", [T1, T2], 90.0)
    assert r.expire(150.0) == set()
    r.subscribe("a", [T1], 180.0)  # T2 dropped by replacement
    assert r.expire(240.0) == set()
    assert r.expire(260.0) == {T1}  # renewed, but held 250 s: it stopped rotating
    _, refused = r.subscribe("a", [T3], 300.0)
    r.subscribe("a", [T3], 360.0)
    assert r.expire(420.0) == set() and r.expire(461.0) == {T3}


def test_renewing_a_token_held_too_long_is_refused() -> None:
    r = Rendezvous(RelayLimits(token_max_age=50.0, subscription_ttl=1000.0))
    r.subscribe("a", [T1], 0.0)
    changed, refused = r.subscribe("a", [T1], 60.0)
    assert changed == {T1} and refused == ["a token stopped rotating and has expired"]
    assert r.subscribers(T1) == []


def test_caps_on_tokens_per_connection_and_subscribers_per_token() -> None:
    r = Rendezvous(RelayLimits(max_subscriptions=2, max_subscribers=2))
    _, refused = r.subscribe("a", [T1, T2, T3], 0.0)
    assert r.tokens_of("a") == {T1, T2} and "only 2 tokens" in refused[0]
    r.subscribe("b", [T1], 0.0)
    _, refused = r.subscribe("c", [T1], 0.0)
    assert "2 subscribers" in refused[0] and r.tokens_of("c") == set()


def test_connections_per_ip_and_in_all() -> None:
    limits = Limits(RelayLimits(max_connections=3, connections_per_ip=2))
    assert limits.admit("1.1.1.1") is None and limits.admit("1.1.1.1") is None
    assert "from one address" in (limits.admit("1.1.1.1") or "")
    assert limits.admit("2.2.2.2") is None
    assert "full" in (limits.admit("3.3.3.3") or "")
    limits.release("1.1.1.1")
    assert limits.admit("1.1.1.1") is None and limits.refused_connections == 2


def test_byte_bucket_and_hourly_quota() -> None:
    bucket = ByteBucket(100.0, 400.0, 0.0)
    assert bucket.take(400, 0.0) and not bucket.take(1, 0.0)
    assert bucket.take(100, 1.0) and not bucket.take(500, 100.0)  # more than the burst never fits
    quota = HourlyQuota(1000)
    assert quota.spend(600, 0.0) and not quota.spend(600, 10.0) and quota.spend(400, 10.0)
    assert quota.spend(1000, 3601.0)
