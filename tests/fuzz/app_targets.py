"""Fuzz targets for app/ (voice aside): the sync and live channels, invite links, the control socket,
and the profile's settings.json."""

from __future__ import annotations

from typing import Any


from app.control_wire import ControlWireError, decode_reply, decode_request, encode_reply, encode_request
from app.errors import BadInvite, ProfileError
from app.invite import Invite, parse_invite
from app.profile import decode_settings, encode_settings
from app.wire import (SYNC, Grant, JoinRefusal, JoinRequest, KeyRequest, SyncMessage, WireError, decode_live,
                      decode_sync_channel, encode_live, encode_sync)

from .fixtures import ME, PEER, ROOM_ID, ROOM_KEY, blob, pub, sealed_to
from .harness import Target

Seeds = dict[str, list[tuple[str, bytes]]]


def _encode_sync_channel(result: tuple[int, SyncMessage]) -> bytes:
    kind, body = result
    if kind == SYNC:
        assert isinstance(body, bytes)
        return encode_sync(body)
    assert isinstance(body, (Grant, KeyRequest, JoinRequest, JoinRefusal))
    return body.encode()


def _encode_live(msg: dict[str, Any]) -> bytes:
    fields = {k: v for k, v in msg.items() if k != "t"}
    return encode_live(msg["t"], **fields)


def _text(data: bytes) -> str:
    """Bytes as the text a user pasted: UTF-8, with undecodable bytes kept as surrogates."""
    return data.decode("utf-8", "surrogateescape")


def _invite(data: bytes) -> Invite:
    return parse_invite(_text(data))


def _invite_canonical(data: bytes, invite: Invite) -> None:
    """An accepted link is exactly the link `Invite.link` makes (surrounding whitespace aside)."""
    link = invite.link()
    assert parse_invite(link) == invite, f"the link of {invite!r} does not parse back"
    assert link == _text(data).strip(), f"accepted a link spelled otherwise than its own: {_text(data)[:80]!r}"


def _request(data: bytes) -> tuple[list[str], list[str] | None, bool]:
    return decode_request(data)


TARGETS = [
    Target("app.wire.decode_sync_channel", decode_sync_channel, (WireError,), encode=_encode_sync_channel,
           canonical=lambda r: r[0] == SYNC),
    Target("app.wire.decode_live", decode_live, (WireError,), encode=_encode_live),
    Target("app.invite.parse_invite", _invite, (BadInvite,), check=_invite_canonical, max_len=1024,
           no_encoder="checked by Invite.link() == the pasted link"),
    Target("app.control_wire.decode_request", _request, (ControlWireError,),
           encode=lambda r: encode_request(r[0], r[1], r[2])),
    Target("app.control_wire.decode_reply", decode_reply, (ControlWireError,), encode=lambda r: encode_reply(*r)),
    Target("app.profile.decode_settings", decode_settings, (ProfileError,), encode=encode_settings),
]


def seeds() -> Seeds:
    grant = Grant("room", {ROOM_ID: sealed_to(pub(ME), ROOM_KEY), blob("rotation 1", 32): sealed_to(pub(ME), blob("k1", 32), "seal 1")},
                  genesis=blob("a genesis entry", 200))
    dm = Grant("dm", {ROOM_ID: sealed_to(pub(ME), ROOM_KEY)}, room=ROOM_ID, direct=True)
    asks = [("key-request", KeyRequest((blob("rotation 1", 32), blob("rotation 2", 32))).encode()),
            ("join-request", JoinRequest("invite-0001").encode()),
            ("refusal", JoinRefusal("used", "invite-0001").encode())]
    invite = Invite(ROOM_ID, "invite-0001", blob("secret", 32), 1_900_000_000_000, "Lobby ☕", pub(PEER))
    long_name = Invite(ROOM_ID, "i" * 20, blob("secret", 32), 5, "é" * 100, pub(PEER))
    return {
        "app.wire.decode_sync_channel": [("sync", encode_sync(b"\x01\x01\x00")), ("grant", grant.encode()),
                                         ("dm-grant", dm.encode()), ("grant-nested", b'\x01{"keys":[[[[]]]]}'), *asks],
        "app.wire.decode_live": [("typing", encode_live("typing", c="general", on=True)),
                                 ("presence", encode_live("presence", s="online", n="me")),
                                 ("voice", encode_live("voice", c="v", on=True, m=False, d=False)),
                                 ("call", encode_live("call", k="ring", id="abcd")),
                                 ("nan", b'{"t":"x","v":NaN}')],
        "app.invite.parse_invite": [("invite", invite.link().encode()), ("long-name", long_name.link().encode()),
                                    ("padded", (invite.link() + "==\n").encode()), ("scheme-only", b"hubbub://join/")],
        "app.control_wire.decode_request": [("send", encode_request(["send", "room", "hi"])),
                                            ("stdin", encode_request(["send", "room", "-"], ["a", "b"])),
                                            ("tty", encode_request(["download", "room", "x", "--out", "/tmp/x"], None, True)),
                                            ("list", b'["argv"]\n')],
        "app.control_wire.decode_reply": [("reply", encode_reply(0, "ok\n", "")), ("empty", b""),
                                          ("bad-code", b'{"code":"x"}')],
        "app.profile.decode_settings": [("settings", encode_settings({"display_name": "me", "ui_last_room": "ab",
                                                                      "ui_last_channels": {"ab": "general"}})),
                                        ("empty", b"{}"), ("list", b"[1]"), ("me", pub(ME).hex().encode())],
    }
