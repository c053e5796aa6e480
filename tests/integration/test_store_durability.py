"""The store keeps every acknowledged entry through SIGKILL, refuses a corrupt database with a sentence, and uses snapshots."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.errors import ProfileError
from app.node import Node
from app.profile import DATABASE_FILE, open_profile
from app.room import Room

ROOT = Path(__file__).resolve().parents[2]

# Posts forever; prints each message id only after Room.post returned, i.e. after the entry was committed.
WRITER = """
import sys
from app.profile import open_profile
from app.room import Room
profile = open_profile(__import__("pathlib").Path(sys.argv[1]))
room = Room.open(profile, bytes.fromhex(sys.argv[2]))
start = int(sys.argv[3])
print("ready", flush=True)
i = start
while True:
    mid = room.post("general", f"message {i} " + "x" * (i % 50))
    sys.stdout.write(mid + "\\n")
    sys.stdout.flush()
    i += 1
"""


# Receives: B ingests each of A's new entries without waiting for the disk (as a node does with
# entries from peers) and prints the message id once B's ingest returned, i.e. once it was shown.
RECEIVER = """
import sys
from pathlib import Path
from app.profile import open_profile
from app.room import Room
author = Room.open(open_profile(Path(sys.argv[1])), bytes.fromhex(sys.argv[2]))
replica = Room.open(open_profile(Path(sys.argv[3])), bytes.fromhex(sys.argv[2]))
got = []
author.listeners.append(lambda _r, entries: got.extend(entries))
print("ready", flush=True)
i = int(sys.argv[4])
while True:
    got.clear()
    mid = author.post("general", f"message {i}")
    replica.ingest(got, durable=False)
    sys.stdout.write(mid + "\\n")
    sys.stdout.flush()
    i += 1
"""


def _read_acked(proc: subprocess.Popen[bytes], want: int, timeout: float = 30.0) -> list[str]:
    """Read complete lines (acknowledged ids) until `want` of them arrived."""
    assert proc.stdout is not None
    buf = b""
    acked: list[str] = []
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while len(acked) < want:
        left = deadline - time.monotonic()
        assert left > 0, f"writer too slow: {len(acked)} acks; stderr: {proc.stderr.read() if proc.stderr else ''}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        assert chunk, f"writer exited early: {proc.wait()} {proc.stderr.read() if proc.stderr else b''}"
        buf += chunk
        *lines, buf = buf.split(b"\n")
        acked += [line.decode() for line in lines if line and line != b"ready"]
    return acked


def _kill_mid_stream(profile_dir: Path, room_id: bytes, start: int, want: int, *,
                     script: str = WRITER, replica_dir: Path | None = None) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [str(profile_dir), room_id.hex()] + ([str(replica_dir)] if replica_dir else []) + [str(start)]
    proc = subprocess.Popen([sys.executable, "-c", script, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(ROOT))
    try:
        acked = _read_acked(proc, want)
        # It keeps writing while we read: the kill lands in the middle of a write loop.
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.stdout is not None
        rest = proc.stdout.read()
        acked += [line.decode() for line in rest.split(b"\n")[:-1] if line]  # only complete lines were acknowledged
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return acked


def test_sigkill_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    profile_dir = tmp_path / "p"
    profile = open_profile(profile_dir, display_name="writer")
    room_id = Room.create(profile, "durable").id
    profile.close()

    acked_all: list[str] = []
    for round_ in range(3):
        acked = _kill_mid_stream(profile_dir, room_id, start=round_ * 1000, want=40)
        assert len(acked) >= 40
        acked_all += acked
        profile = open_profile(profile_dir)
        try:
            room = Room.open(profile, room_id)
            present = {m.id for m in room.history()}
            missing = [mid for mid in acked_all if mid not in present]
            assert missing == [], f"round {round_}: {len(missing)} acknowledged messages lost"
            # the chain on disk is whole: the room reopens and a new write still validates
            room.post("general", f"after kill {round_}")
        finally:
            profile.close()
    assert len(set(acked_all)) == len(acked_all)


def test_sigkill_loses_no_received_entry_that_was_shown(tmp_path: Path) -> None:
    """Entries from peers are committed, not yet fsynced, when shown: a killed process still keeps them."""
    author = open_profile(tmp_path / "a", display_name="author")
    replica = open_profile(tmp_path / "b", display_name="replica")
    room = Room.create(author, "relayed")
    room.add_member(replica.public_key)
    replica.store.add_room(room.id, "relayed", room.log.keys)
    Room.open(replica, room.id).ingest(author.store.all_entries(room.id))
    author.close()
    replica.close()

    shown = _kill_mid_stream(tmp_path / "a", room.id, 0, 40, script=RECEIVER, replica_dir=tmp_path / "b")
    assert len(shown) >= 40
    profile = open_profile(tmp_path / "b")
    try:
        present = {m.id for m in Room.open(profile, room.id).history()}
        missing = [mid for mid in shown if mid not in present]
        assert missing == [], f"{len(missing)} shown messages lost"
    finally:
        profile.close()


def test_corrupt_database_is_a_profile_error_with_a_sentence(tmp_path: Path) -> None:
    profile_dir = tmp_path / "p"
    open_profile(profile_dir).close()
    (profile_dir / DATABASE_FILE).write_bytes(os.urandom(8192))
    for suffix in ("-wal", "-shm"):
        (profile_dir / (DATABASE_FILE + suffix)).unlink(missing_ok=True)
    with pytest.raises(ProfileError) as info:
        open_profile(profile_dir)
    message = str(info.value)
    assert message[0].isupper() and message.rstrip().endswith(".") and "\n" not in message
    assert "database" in message


def test_missing_profile_without_create_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no Hubbub profile"):
        open_profile(tmp_path / "nothing", create=False)


def test_identity_file_is_private(tmp_path: Path) -> None:
    profile = open_profile(tmp_path / "p")
    profile.close()
    from app.profile import IDENTITY_FILE

    assert (os.stat(tmp_path / "p" / IDENTITY_FILE).st_mode & 0o777) == 0o600


def test_snapshot_reopens_to_the_same_history_and_is_used(tmp_path: Path) -> None:
    profile = open_profile(tmp_path / "p", display_name="snap")
    node = Node(profile)
    room = node.create_room("snapshots")
    ids = [room.post("general", f"m{i}") for i in range(300)]
    room.react(ids[3], "👍")
    room.edit(ids[4], "m4 edited")
    room.delete(ids[5])
    room.snapshot()
    later = [room.post("general", f"late {i}") for i in range(5)]
    expected = [(m.id, m.text, m.deleted, m.edited, dict(m.reactions)) for m in room.history()]
    assert len(expected) == 305
    profile.close()

    profile = open_profile(tmp_path / "p")
    try:
        upto, state = profile.store.snapshot(room.id)  # type: ignore[misc]
        assert upto == profile.store.max_n(room.id) - len(later) and state
        replayed: list[int] = []
        original = profile.store.entries_where

        def spy(room_id: bytes, clause: str, args: tuple[object, ...] = ()):  # type: ignore[no-untyped-def]
            got = original(room_id, clause, args)
            if "e.n>" in clause:
                replayed.append(len(got))
            return got

        profile.store.entries_where = spy  # type: ignore[method-assign]
        reopened = Room.open(profile, room.id)
        assert replayed == [len(later)], "open replayed more than the entries after the snapshot"
        assert [(m.id, m.text, m.deleted, m.edited, dict(m.reactions)) for m in reopened.history()] == expected
    finally:
        profile.close()


def test_a_profile_written_by_another_process_meanwhile_opens_its_rooms(tmp_path: Path) -> None:
    """A node that opened the profile, then the CLI writing to it directly (as it does while the
    node is still starting): the node reads the new room and its authors, not a KeyError."""
    node_view = open_profile(tmp_path / "p", display_name="me")  # the node's connection, opened first
    cli_view = open_profile(tmp_path / "p")  # the CLI's own connection
    try:
        room = Room.create(cli_view, "made meanwhile")
        mid = room.post("general", "written by the other process")
        seen = Room.open(node_view, room.id)
        assert [m.id for m in seen.history()] == [mid]
        assert node_view.store.author_entries(room.id, cli_view.public_key, 0, 10)
        seen.post("general", "and the node writes after it")
        assert [m.text for m in Room.open(cli_view, room.id).history()][-1] == "and the node writes after it"
    finally:
        cli_view.close()
        node_view.close()
