"""A message that expires or is deleted is gone from every file of the profile: the database, its
write-ahead log, the snapshots. And every file of a profile is readable by its owner only."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.node import Node
from app.profile import open_profile
from tests.conftest import ROOT
from tests.integration.test_service_loopback import run, service, started, until

pytestmark = pytest.mark.timeout(90)


def _files_holding(profile: Path, text: bytes) -> list[str]:
    return [str(p.relative_to(profile)) for p in profile.rglob("*") if p.is_file() and text in p.read_bytes()]


def _hubbub(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "app.cli", "--profile", str(profile), *args], capture_output=True,
                          text=True, timeout=60, env=env, check=True)


def test_an_expired_message_is_erased_through_the_cli_with_no_node(tmp_path: Path) -> None:
    profile = tmp_path / "p"
    room = _hubbub(profile, "room", "create", "Erasure").stdout.split()[0]
    _hubbub(profile, "send", room, "kept in the room")
    _hubbub(profile, "send", room, "SECRET-TTL-WORDS", "--ttl", "1")
    node = Node(open_profile(profile))
    node.room(bytes.fromhex(room)).snapshot()  # a snapshot that holds the text, as a running node would save
    node.profile.close()
    assert _files_holding(profile, b"SECRET-TTL-WORDS"), "the test cannot see the text to begin with"
    time.sleep(1.5)
    out = _hubbub(profile, "history", room).stdout
    assert "SECRET-TTL-WORDS" not in out and "kept in the room" in out
    assert _files_holding(profile, b"SECRET-TTL-WORDS") == []


def test_a_deleted_message_and_its_edits_are_erased_from_the_authors_files(tmp_path: Path) -> None:
    node = Node(open_profile(tmp_path / "p", display_name="alice"))
    room = node.create_room("Erasure")
    mid = room.post("general", "SECRET-FIRST-DRAFT")
    room.edit(mid, "SECRET-SECOND-DRAFT")
    room.post("general", "kept")
    room.snapshot()
    path = node.profile.path
    assert _files_holding(path, b"SECRET-SECOND-DRAFT")
    room.delete(mid)
    node.close()
    for text in (b"SECRET-FIRST-DRAFT", b"SECRET-SECOND-DRAFT"):
        assert _files_holding(path, text) == [], text
    again = Node(open_profile(path))
    msgs = again.room(room.id).history()
    assert [m.deleted for m in msgs] == [True, False] and msgs[1].text == "kept"
    again.close()


def test_expiry_erases_the_text_on_every_node_while_they_run(tmp_path: Path) -> None:
    async def body() -> None:
        a, b = service(tmp_path / "a", "Alice"), service(tmp_path / "b", "Bob")
        async with started(a, b):
            room_a = a.create_room("party")
            await b.async_connect(*a.address)
            room_b = await b.async_join(a.create_invite(room_a).link(), 10)
            room_a.post("general", "SECRET-LIVE-TTL", ttl=1)
            await until(lambda: any(m.text == "SECRET-LIVE-TTL" for m in room_b.history()), 5, "Bob got it")
            for svc in (a, b):
                svc.chores.chores()  # the housekeeping round that runs every few seconds
            await asyncio.sleep(1.3)
            for svc in (a, b):
                svc.chores.chores()
            for svc in (a, b):
                assert _files_holding(svc.node.profile.path, b"SECRET-LIVE-TTL") == [], svc.node.profile.display_name

    run(body)


def test_every_file_of_a_profile_is_private(tmp_path: Path) -> None:
    node = Node(open_profile(tmp_path / "p", display_name="alice"))
    room = node.create_room("Private")
    room.post("general", "hello")
    node.profile.set_display_name("alice again")
    path = node.profile.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for p in path.iterdir():
        if p.is_file():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    node.close()
