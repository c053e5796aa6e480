"""The `hubbub` parser: message and member ids that start with `-` are values, options stay options."""

from __future__ import annotations

import argparse

import pytest
from nacl.signing import SigningKey

from app.cli_args import ID_VALUE, build_parser, expiry_seconds
from crdt.schema import eid, short_id


def dash_key() -> bytes:
    while True:
        key = bytes(SigningKey.generate().verify_key)
        if short_id(key).startswith("-"):
            return key


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_the_pattern_matches_the_ids_the_room_model_makes() -> None:
    for _ in range(200):
        key = bytes(SigningKey.generate().verify_key)
        assert ID_VALUE.fullmatch(short_id(key))
        for seq in (0, 1, 35, 36, 10**6, 2**62):
            assert ID_VALUE.fullmatch(eid(key, seq)), eid(key, seq)


@pytest.mark.parametrize("seq", [1, 7, 123456])
def test_an_id_starting_with_a_dash_is_a_value(seq: int) -> None:
    mid = eid(dash_key(), seq)
    assert mid.startswith("-")
    assert parse("send", "room", "hi", "--reply-to", mid).reply_to == mid
    assert parse("send", "room", "hi", f"--reply-to={mid}").reply_to == mid
    assert parse("send", "room", "hi", "--thread", mid, "--channel", "general").thread == mid
    assert parse("history", "room", "--thread", mid).thread == mid
    assert parse("edit", "room", mid, "new text").message == mid
    assert parse("delete", "room", mid).message == mid
    args = parse("react", "room", mid, "👍", "--remove")
    assert (args.message, args.emoji, args.remove) == (mid, "👍", True)
    assert parse("pin", "room", mid).message == mid
    assert parse("--profile", "/tmp/x", "pin", "room", "--remove", mid).message == mid


def test_a_member_short_id_starting_with_a_dash_is_a_value() -> None:
    who = short_id(dash_key())
    assert parse("member", "remove", "room", who).member == who
    args = parse("member", "role", "room", who, "moderator")
    assert (args.member, args.role) == (who, "moderator")


def test_options_stay_options() -> None:
    # "--channel" has the shape of an id (8 base64url characters, then base-36 digits): it is still the option.
    args = parse("send", "room", "hi", "--channel", "random", "--ttl", "5")
    assert (args.channel, args.ttl) == ("random", 5.0)
    assert parse("send", "room", "hi", "--chan", "random").channel == "random"  # an abbreviation, as before
    assert parse("-v", "room", "list").verbose
    with pytest.raises(SystemExit):
        parse("send", "room", "hi", "--no-such-option1")  # not an id of a valid shape, not an option: an error


def test_invite_expiry_and_uses() -> None:
    assert parse("invite", "room").expires == 7 * 86400 and parse("invite", "room").uses == 1
    assert parse("invite", "room", "--expires", "1h", "--uses", "5").expires == 3600
    assert parse("invite", "room", "--expires", "never").expires is None
    assert parse("invite", "room", "--valid-hours", "2").valid_hours == 2
    assert expiry_seconds("1d") == 86400 and expiry_seconds("30m") == 1800 and expiry_seconds("2w") == 14 * 86400
    for bad in (["--expires", "soon"], ["--uses", "0"], ["--uses", "x"], ["--expires", "1h", "--valid-hours", "3"]):
        with pytest.raises(SystemExit):
            parse("invite", "room", *bad)


def test_the_help_names_the_roles(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--help")
    text = capsys.readouterr().out
    assert "moderator" in text and "admin" in text
    for command, role in (("delete", "moderator"), ("pin", "moderator"), ("channel", "admin")):
        with pytest.raises(SystemExit):
            parse(command, "--help")
        assert role in capsys.readouterr().out, command
