"""CLI parity: edit, delete, react, pin, read, threads, members, channels and invites, by the app's role rules.

Every test runs twice: with no node on the profiles (the CLI writes the profile itself) and with
a `hubbub node` running on each profile (loopback, no mDNS), where every command is forwarded
over the control socket; the node's log shows that it ran them. Alice owns the room; Bob and
Carol are members, made so before the test and given the room by an exported log. Alice's and
Bob's keys are chosen so that every id they write starts with `-`.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from app.invite import parse_invite
from app.node import Node
from app.profile import open_profile
from crdt.room import KIND_CONTROL_ROW
from crdt.schema import short_id
from crdt.store import Store
from tests.integration.clitools import hub, ok, one_line_error, profile_with_dash_id, start_node, stop_node

pytestmark = pytest.mark.timeout(240)


@dataclass
class Party:
    mode: str
    base: Path
    room: str
    keys: dict[str, bytes]
    first: dict[str, str]  # each person's first message, posted before the log was shared
    nodes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def profile(self, who: str) -> Path:
        return self.base / who

    def run(self, who: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return hub(self.profile(who), *args, stdin=stdin)

    def ok(self, who: str, *args: str, stdin: str | None = None) -> str:
        return ok(self.run(who, *args, stdin=stdin))

    def refused(self, who: str, *args: str) -> str:
        return one_line_error(self.run(who, *args))

    def history(self, who: str, *extra: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = json.loads(self.ok(who, "history", self.room, "--json", *extra))
        return records

    def message(self, who: str, mid: str) -> dict[str, Any]:
        return next(m for m in self.history(who) if m["id"] == mid)

    def short(self, who: str) -> str:
        return short_id(self.keys[who])

    def node_ran(self, who: str, command: str) -> bool:
        return f"ran `{command}` for the CLI" in self.logs[who].read_text()


def _make_party(base: Path) -> tuple[str, dict[str, bytes], dict[str, str]]:
    keys = {"alice": bytes(profile_with_dash_id(base / "alice").verify_key),
            "bob": bytes(profile_with_dash_id(base / "bob").verify_key)}
    ok(hub(base / "alice", "name", "alice"))
    ok(hub(base / "bob", "name", "bob"))
    ok(hub(base / "carol", "name", "carol"))
    node = Node(open_profile(base / "carol"))
    keys["carol"] = node.profile.public_key
    node.close()
    room = ok(hub(base / "alice", "room", "create", "Team")).strip()
    node = Node(open_profile(base / "alice"))  # members added by the owner: the CLI's join needs a LAN
    team = node.find_room(room)
    team.add_member(keys["bob"], "member", "bob")
    team.add_member(keys["carol"], "member", "carol")
    team.add_member(bytes(SigningKey.generate().verify_key), "member", "dave")  # never writes anything
    node.close()
    first = {"alice": ok(hub(base / "alice", "send", room, "alice's first")).strip()}
    log = base / "team.log"
    ok(hub(base / "alice", "export", room, "--format", "log", "--out", str(log)))
    for who in ("bob", "carol"):
        ok(hub(base / who, "import", str(log)))
    first["bob"] = ok(hub(base / "bob", "send", room, "bob's first")).strip()
    first["carol"] = ok(hub(base / "carol", "send", room, "carol's first")).strip()
    ok(hub(base / "carol", "export", room, "--format", "log", "--out", str(log)))
    ok(hub(base / "alice", "import", str(log)))  # Alice learns of Carol's message
    return room, keys, first


@pytest.fixture(scope="module", params=["direct", "node"])
def party(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Party]:
    base = tmp_path_factory.mktemp(f"parity-{request.param}")
    room, keys, first = _make_party(base)
    p = Party(request.param, base, room, keys, first)
    if p.mode == "node":
        for who in ("alice", "bob", "carol"):
            p.logs[who] = base / f"{who}-node.log"
            p.nodes[who], _port = start_node(p.profile(who), p.logs[who])
    try:
        yield p
    finally:
        for who, proc in p.nodes.items():
            stop_node(proc, p.profile(who), p.logs[who])


def test_ids_that_start_with_a_dash_work_everywhere(party: Party) -> None:
    room = party.room
    mid = party.ok("alice", "send", room, "about the party").strip()
    assert mid.startswith("-")
    reply = party.ok("alice", "send", room, "first reply", "--reply-to", mid).strip()
    reply2 = party.ok("alice", "send", room, "second reply", f"--reply-to={mid}").strip()
    assert party.message("alice", reply)["reply_to"] == mid and party.message("alice", reply2)["reply_to"] == mid
    party.ok("alice", "edit", room, mid, "about the party (edited)")
    party.ok("alice", "react", room, mid, "👍")
    party.ok("alice", "pin", room, mid)
    m = party.message("alice", mid)
    assert (m["text"], m["edited"], m["pinned"]) == ("about the party (edited)", True, True)
    assert m["reactions"] == {"👍": ["alice"]}
    assert "pinned" in party.ok("alice", "history", room)  # the text form shows it too
    party.ok("alice", "react", room, mid, "👍", "--remove")
    party.ok("alice", "pin", room, "--remove", mid)
    m = party.message("alice", mid)
    assert m["reactions"] == {} and not m["pinned"]
    party.ok("alice", "delete", room, mid)
    assert party.message("alice", mid)["deleted"]
    if party.mode == "node":
        assert all(party.node_ran("alice", c) for c in ("send", "edit", "react", "pin", "delete", "history"))


def test_no_ops_say_so_and_succeed(party: Party) -> None:
    room = party.room
    mid = party.ok("alice", "send", room, "react twice").strip()
    party.ok("alice", "react", room, mid, "🎉")
    again = party.run("alice", "react", room, mid, "🎉")
    assert again.returncode == 0 and "already reacted" in again.stderr
    assert party.message("alice", mid)["reactions"] == {"🎉": ["alice"]}
    unpinned = party.run("alice", "pin", room, mid, "--remove")
    assert unpinned.returncode == 0 and "not pinned" in unpinned.stderr


def test_threads(party: Party) -> None:
    room = party.room
    root = party.ok("alice", "send", room, "thread root").strip()
    r1 = party.ok("alice", "send", room, "in the thread", "--thread", root).strip()
    r2 = party.ok("alice", "send", room, "reply to a reply", "--thread", r1).strip()  # the same thread
    other = party.ok("alice", "send", room, "not in it").strip()
    for ask in (root, r1):
        records = party.history("alice", "--thread", ask)
        assert [r["id"] for r in records] == [root, r1, r2]
    assert party.message("alice", r2)["thread"] == root and party.message("alice", other)["thread"] is None
    text = party.ok("alice", "history", room)
    assert f"in thread {root}" in text
    err = party.refused("alice", "send", room, "elsewhere", "--thread", root, "--channel", "no-such")
    assert "channel" in err


def test_a_member_is_refused_what_needs_a_moderator(party: Party) -> None:
    room, theirs, mine = party.room, party.first["alice"], party.first["bob"]
    assert "moderator" in party.refused("bob", "delete", room, theirs)
    assert "moderator" in party.refused("bob", "pin", room, theirs)
    assert "author" in party.refused("bob", "edit", room, theirs, "bob was here")
    assert "admin" in party.refused("bob", "channel", "create", room, "bobs-channel")
    assert "admin" in party.refused("bob", "member", "remove", room, "carol")
    assert "admin" in party.refused("bob", "member", "role", room, "carol", "moderator")
    assert "owner" in party.refused("bob", "member", "remove", room, "alice")
    assert "not in this room" in party.refused("bob", "delete", room, "AAAAAAAA1")
    # What a member may do with their own message, and with anyone's reactions.
    party.ok("bob", "react", room, theirs, "👀")
    party.ok("bob", "pin", room, mine)
    party.ok("bob", "edit", room, mine, "bob's first, edited")
    party.ok("bob", "delete", room, mine)
    m = party.message("bob", mine)
    assert m["deleted"] and party.message("bob", theirs)["reactions"] == {"👀": ["bob"]}
    assert not party.message("bob", theirs)["deleted"]


def test_roles_and_removal_by_every_kind_of_member_name(party: Party) -> None:
    room = party.room
    listing = party.ok("alice", "member", "list", room).splitlines()
    assert any(line.startswith(party.short("bob")) and " member " in line and line.endswith("bob") for line in listing)
    party.ok("alice", "member", "role", room, "bob", "moderator")  # by display name
    assert any(line.startswith(party.short("bob")) and "moderator" in line for line in party.ok("alice", "member", "list", room).splitlines())
    party.ok("alice", "member", "role", room, party.short("bob"), "member")  # by the author id (it starts with -)
    same = party.run("alice", "member", "role", room, "BOB", "member")  # by name, any case
    assert same.returncode == 0 and "already a member" in same.stderr
    assert "Nobody" in party.refused("alice", "member", "remove", room, "erin")
    assert "your own role" in party.refused("alice", "member", "role", room, "alice", "admin")
    assert "not written anything" in party.refused("alice", "member", "remove", room, "dave")
    party.ok("alice", "member", "remove", room, party.keys["carol"].hex()[:10])  # by a key prefix
    names = [line.split()[-1] for line in party.ok("alice", "member", "list", room).splitlines()]
    assert names == ["alice", "bob", "dave"]


def test_channels(party: Party) -> None:
    room = party.room
    assert party.ok("alice", "channel", "create", room, "random").strip() == "random"
    assert party.ok("alice", "channel", "create", room, "Stage", "--voice", "--category", "Events").strip() == "stage"
    assert "already has a channel" in party.refused("alice", "channel", "create", room, "Random")
    party.ok("alice", "send", room, "in random", "--channel", "random")
    party.ok("alice", "channel", "rename", room, "random", "off-topic")
    assert [m["text"] for m in party.history("alice", "--channel", "off-topic")] == ["in random"]
    assert "already has a channel" in party.refused("alice", "channel", "rename", room, "off-topic", "general")
    party.ok("alice", "channel", "delete", room, "off-topic")
    assert "no channel" in party.refused("alice", "send", room, "gone", "--channel", "off-topic")
    party.ok("alice", "channel", "create", room, "random")  # a deleted channel's name can be used again
    party.ok("alice", "send", room, "back again", "--channel", "random")


def _invite_ops(profile: Path, room_id: bytes) -> list[dict[str, Any]]:
    """The args of every invite the room's log holds (read from the profile's database, as any reader may)."""
    from crdt.restore import restore_log

    store = Store(profile / "hubbub.sqlite")
    try:
        controls = store.entries_where(room_id, "e.kind=?", (KIND_CONTROL_ROW,))
        log = restore_log(room_id, store.keys(room_id), None, {}, controls)
        return [dict(n.op.args) for n in log.graph.by_idx if n.op.op == "invite"]
    finally:
        store.close()


def test_invite_expiry_and_uses(party: Party) -> None:
    room = party.room
    before = time.time() * 1000
    hour = parse_invite(party.ok("alice", "invite", room, "--expires", "1h", "--uses", "5").strip())
    assert before + 3600_000 - 5000 < hour.expires_ms < time.time() * 1000 + 3600_000 + 5000
    never = parse_invite(party.ok("alice", "invite", room, "--expires", "never").strip())
    assert never.expires_ms > (time.time() + 100 * 365 * 86400) * 1000
    legacy = parse_invite(party.ok("alice", "invite", room, "--valid-hours", "2").strip())
    assert abs(legacy.expires_ms - (time.time() * 1000 + 7200_000)) < 10_000
    ops = {a["id"]: a for a in _invite_ops(party.profile("alice"), bytes.fromhex(room))}
    assert ops[hour.invite_id]["uses"] == 5
    assert "uses" not in ops[never.invite_id] and "uses" not in ops[legacy.invite_id]  # single use: as before
    bad = party.run("alice", "invite", room, "--expires", "soon")
    assert bad.returncode == 2 and "1h" in bad.stderr  # argparse's usage error names the accepted forms
    bad = party.run("alice", "invite", room, "--uses", "0")
    assert bad.returncode == 2 and "at least 1" in bad.stderr


def test_read_marks_every_channel(party: Party) -> None:
    room = party.room
    party.ok("alice", "send", room, "unread until read")
    party.ok("alice", "read", room)
    db = sqlite3.connect(f"file:{party.profile('alice') / 'hubbub.sqlite'}?mode=ro", uri=True)
    try:
        marks = dict(db.execute("SELECT m.channel, m.upto_ms FROM read_marks m JOIN rooms r ON r.id=m.room "
                                "WHERE r.room_id=?", (bytes.fromhex(room),)).fetchall())
    finally:
        db.close()
    newest = party.history("alice")[-1]["ts"]
    assert "general" in marks and marks["general"] >= newest
    assert "lounge" not in marks  # a voice channel has nothing to read
    if party.mode == "node":
        assert party.node_ran("alice", "read")
