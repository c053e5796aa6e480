"""Sending many messages at once: one validated batch, one fsync'd commit, one announcement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.node import Node
from app.profile import open_profile

HUBBUB = [sys.executable, "-m", "ui.entry"]


def test_post_many_is_one_commit_and_one_announcement(tmp_path: Path) -> None:
    node = Node(open_profile(tmp_path / "p", display_name="Ann"))
    room = node.create_room("batch")
    calls: list[int] = []
    room.listeners.append(lambda r, entries: calls.append(len(entries)))
    before = node.profile.store.count(room.id)
    with room.batch():
        first = room.post("general", "one")
        assert calls == [], "nothing is announced before the batch is committed"
        assert node.profile.store.count(room.id) == before, "nothing is stored before the batch is committed"
        rest = room.post_many("general", ["two", "three"])  # nested: joins the open batch
    assert calls == [3]
    assert node.profile.store.count(room.id) == before + 3
    assert [m.id for m in room.history("general")] == [first, *rest]
    node.close()
    reopened = Node(open_profile(tmp_path / "p"))
    assert [m.text for m in reopened.room(room.id).history("general")] == ["one", "two", "three"]
    reopened.close()


def test_cli_send_reads_messages_from_stdin(tmp_path: Path) -> None:
    profile = str(tmp_path / "cli")
    run = lambda *args, stdin=None: subprocess.run([*HUBBUB, "--profile", profile, *args], input=stdin,  # noqa: E731
                                                   capture_output=True, text=True, timeout=60)
    assert run("room", "create", "lines").returncode == 0
    sent = run("send", "lines", "-", stdin="first\n\nsecond\nthird\n")
    assert sent.returncode == 0, sent.stderr
    ids = sent.stdout.split()
    assert len(ids) == 3
    history = run("history", "lines")
    texts = [line.split(": ", 1)[1] for line in history.stdout.splitlines()]
    assert texts == ["first", "second", "third"]
