"""Relay addresses: canonical forms, ws URLs, and one sentence for junk."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2p.relay.errors import RelayError
from p2p.relay.parse import parse_relay_url


@pytest.mark.parametrize(("text", "url", "ws"), [
    ("hubbub-relay://Relay.Example.org:7447", "hubbub-relay://relay.example.org:7447", "ws://relay.example.org:7447/"),
    ("HUBBUB-RELAY+TLS://example.org", "hubbub-relay+tls://example.org", "wss://example.org:443/"),
    ("hubbub-relay+tls://example.org:8443/hub", "hubbub-relay+tls://example.org:8443/hub", "wss://example.org:8443/hub"),
    ("hubbub-relay://[::1]:9", "hubbub-relay://[::1]:9", "ws://[::1]:9/"),
    (" hubbub-relay://127.0.0.1:1 ", "hubbub-relay://127.0.0.1:1", "ws://127.0.0.1:1/"),
])
def test_good_addresses(text: str, url: str, ws: str) -> None:
    address = parse_relay_url(text)
    assert (address.url, address.ws_url) == (url, ws)
    assert parse_relay_url(address.url) == address


@pytest.mark.parametrize("text", [
    "", "relay.example.org:7447", "http://example.org:80", "hubbub-relay://example.org",
    "hubbub-relay://example.org:0", "hubbub-relay://example.org:70000", "hubbub-relay://exa mple.org:1",
    "hubbub-relay://-bad.org:1", "hubbub-relay://[nothex]:1", "hubbub-relay://[::1]x:1",
    "hubbub-relay://host:1/pa th", "hubbub-relay://" + "a" * 600 + ":1",
])
def test_junk_is_one_sentence(text: str) -> None:
    with pytest.raises(RelayError) as info:
        parse_relay_url(text)
    assert "\n" not in str(info.value) and str(info.value).count(". ") == 0


@given(st.text(max_size=80))
def test_anything_parses_or_raises_relay_error(text: str) -> None:
    try:
        address = parse_relay_url(text)
    except RelayError:
        return
    assert parse_relay_url(address.url) == address
