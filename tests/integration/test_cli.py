"""The `hubbub` command line, run as a real subprocess against throwaway profiles."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from tests.integration.clitools import hub, ok, one_line_error


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One profile with a room and a few messages, made through the CLI."""
    base = tmp_path_factory.mktemp("cli")
    profile = base / "alice"
    room_id = ok(hub(profile, "room", "create", "Team Room")).strip()
    first = ok(hub(profile, "send", room_id, "hello from the cli")).strip()
    reply = ok(hub(profile, "send", room_id[:10], "a reply", "--reply-to", first)).strip()
    return {"base": base, "profile": profile, "room": room_id, "first": first, "reply": reply}


def test_room_create_and_list(world: dict) -> None:
    room_id = world["room"]
    assert re.fullmatch(r"[0-9a-f]{64}", room_id)
    listing = ok(hub(world["profile"], "room", "list")).splitlines()
    assert listing == [f"{room_id}  Team Room"]
    second = ok(hub(world["profile"], "room", "create", "Second")).strip()
    listing = ok(hub(world["profile"], "room", "list")).splitlines()
    assert listing == [f"{room_id}  Team Room", f"{second}  Second"]


def test_send_and_history_text_and_json(world: dict) -> None:
    profile, room = world["profile"], world["room"]
    assert re.fullmatch(r"[\w-]{9,}", world["first"])
    text = ok(hub(profile, "history", room))
    lines = text.splitlines()
    assert len(lines) == 2
    assert "hello from the cli" in lines[0] and "a reply" in lines[1]
    assert f"reply to {world['first']}" in lines[1]
    records = json.loads(ok(hub(profile, "history", room, "--json")))
    assert [r["id"] for r in records] == [world["first"], world["reply"]]
    for key in ("id", "author", "author_name", "channel", "text", "ts", "reply_to", "reactions", "edited", "deleted"):
        assert all(key in r for r in records), key
    first, reply = records
    assert first["text"] == "hello from the cli" and first["channel"] == "general"
    assert first["author_name"] == first["author_name"].strip() and first["author_name"]
    assert isinstance(first["ts"], int) and first["ts"] > 1_600_000_000_000
    assert reply["reply_to"] == first["id"] and first["reply_to"] is None
    assert first["reactions"] == {} and first["edited"] is False and first["deleted"] is False


def test_send_to_another_channel(world: dict, tmp_path: Path) -> None:
    profile = tmp_path / "p"
    room = ok(hub(profile, "room", "create", "Channels")).strip()
    ok(hub(profile, "send", room, "in general"))
    # the default voice channel is not a text channel, an unknown channel is an error
    err = one_line_error(hub(profile, "send", room, "nowhere", "--channel", "no-such-channel"))
    assert "channel" in err
    assert [r["text"] for r in json.loads(ok(hub(profile, "history", room, "--json")))] == ["in general"]


def test_export_all_formats_and_import(world: dict) -> None:
    base, profile, room = world["base"], world["profile"], world["room"]
    outs = {fmt: base / f"export.{fmt}" for fmt in ("json", "md", "html", "log")}
    for fmt, out in outs.items():
        result = hub(profile, "export", room, "--format", fmt, "--out", str(out))
        ok(result)
        assert out.is_file() and out.stat().st_size > 0
    assert "hello from the cli" in json.dumps(json.loads(outs["json"].read_text(encoding="utf-8")))
    assert "a reply" in outs["md"].read_text(encoding="utf-8")
    page = outs["html"].read_text(encoding="utf-8")
    assert "<style>" in page and "hello from the cli" in page
    assert stat.S_IMODE(outs["log"].stat().st_mode) == 0o600
    bob = base / "bob"
    out = ok(hub(bob, "import", str(outs["log"])))
    assert re.search(r"Imported \d+ new entries into Team Room", out), out
    records = json.loads(ok(hub(bob, "history", room, "--json")))
    assert [r["text"] for r in records] == ["hello from the cli", "a reply"]
    assert [r["id"] for r in records] == [world["first"], world["reply"]]
    err = one_line_error(hub(bob, "send", room, "let me in"))
    assert "not a member" in err


def test_log_export_warns_that_it_is_secret(world: dict) -> None:
    out = world["base"] / "secret.log"
    result = hub(world["profile"], "export", world["room"], "--format", "log", "--out", str(out))
    ok(result)
    assert "secret" in result.stderr and "0600" in result.stderr


def test_invite_prints_a_link(world: dict) -> None:
    from app.invite import parse_invite

    link = ok(hub(world["profile"], "invite", world["room"])).strip()
    assert link.startswith("hubbub://join/") and "\n" not in link
    invite = parse_invite(link)
    assert invite.room_id.hex() == world["room"] and invite.room_name == "Team Room"


def test_unknown_room_is_one_line_error(world: dict) -> None:
    for args in (("send", "no-such-room", "hi"), ("history", "no-such-room"), ("invite", "ffff0000")):
        err = one_line_error(hub(world["profile"], *args))
        assert "room" in err.lower()


def test_corrupt_import_file_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.hubbub"
    bad.write_bytes(os.urandom(3000))
    one_line_error(hub(tmp_path / "p", "import", str(bad)))
    err = one_line_error(hub(tmp_path / "p", "import", str(tmp_path / "missing.hubbub")))
    assert "missing.hubbub" in err


def test_bad_invite_link_is_one_line_error(tmp_path: Path) -> None:
    err = one_line_error(hub(tmp_path / "p", "join", "garbage", "--timeout", "2"))
    assert "invite" in err.lower()
    err = one_line_error(hub(tmp_path / "p", "join", "hubbub://join/AAAAAAAAAAAAAAAAAAAAAAAA", "--timeout", "2"))
    assert "invite" in err.lower()


def test_missing_profile_for_history_is_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "never-made"
    err = one_line_error(hub(missing, "history", "anything"))
    assert "profile" in err.lower()
    assert not missing.exists(), "a read-only command created a profile"


def test_no_command_prints_help() -> None:
    result = hub(None, "--help")
    assert result.returncode == 0 and "room" in result.stdout and "export" in result.stdout
