"""TURN REST credentials: the username's expiry, the HMAC-SHA1 password, the URLs (coturn checks them in test_relay_turn)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from p2p.relay.errors import RelayError
from p2p.relay.turn import make_credentials, password_for, read_secret, turn_urls


def hmac_sha1(key: bytes, message: bytes) -> bytes:
    """RFC 2104 by hand, so the test does not reuse the code it checks."""
    key = key.ljust(64, b"\0")
    inner = hashlib.sha1(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha1(bytes(k ^ 0x5C for k in key) + inner).digest()


def test_password_is_base64_hmac_sha1_of_the_username() -> None:
    creds = make_credentials(b"north", ("turn:198.18.0.2:3478?transport=udp",), 1_700_000_000.0, 3600)
    expiry, _, rand = creds.username.partition(":")
    assert int(expiry) == 1_700_003_600 and len(rand) == 16 and creds.ttl == 3600
    assert creds.password == base64.b64encode(hmac_sha1(b"north", creds.username.encode())).decode()
    assert password_for(b"north", "1:x") != password_for(b"south", "1:x")
    assert make_credentials(b"north", (), 0.0, 1).username != make_credentials(b"north", (), 0.0, 1).username


def test_urls_udp_then_tcp_then_tls() -> None:
    assert turn_urls("turn:198.18.0.2:3478", "turns:relay.example.org:5349") == (
        "turn:198.18.0.2:3478?transport=udp", "turn:198.18.0.2:3478?transport=tcp",
        "turns:relay.example.org:5349?transport=tcp")
    for bad in ("stun:1.2.3.4:3478", "turn:1.2.3.4", "turn:1.2.3.4:99999", "turn:a b:1"):
        with pytest.raises(RelayError):
            turn_urls(bad)


def test_secret_file(tmp_path: Path) -> None:
    (tmp_path / "s").write_bytes(b"  s3cret \nignored\n")
    assert read_secret(str(tmp_path / "s")) == b"s3cret"
    (tmp_path / "e").write_bytes(b"\n")
    with pytest.raises(RelayError, match="empty"):
        read_secret(str(tmp_path / "e"))
    with pytest.raises(RelayError, match="cannot read"):
        read_secret(str(tmp_path / "missing"))
