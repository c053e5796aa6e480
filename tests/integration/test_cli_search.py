"""`hubbub search` and `hubbub open` on the real script, with no node on the profile and through a running node.

With a node, the commands go over the control socket and its log shows that it ran them; a
message posted through the node is found at once (the node's index is fed by the same ingest).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.links import message_link
from tests.integration.clitools import hub, ok, one_line_error, start_node, stop_node

pytestmark = pytest.mark.timeout(180)


@dataclass
class Profile:
    mode: str
    path: Path
    room: str
    other: str
    ids: dict[str, str]
    node: subprocess.Popen[str] | None = None
    log: Path | None = None
    extra: list[str] = field(default_factory=list)

    def ok(self, *args: str) -> str:
        return ok(hub(self.path, *args))

    def refused(self, *args: str) -> str:
        return one_line_error(hub(self.path, *args))

    def ran(self, command: str) -> bool:
        return self.log is not None and f"ran `{command}` for the CLI" in self.log.read_text()


@pytest.fixture(scope="module", params=["direct", "node"])
def prof(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Profile]:
    base = tmp_path_factory.mktemp(f"search-{request.param}")
    path = base / "alice"
    ok(hub(path, "name", "alice"))
    room = ok(hub(path, "room", "create", "Team")).strip()
    other = ok(hub(path, "room", "create", "Book club")).strip()
    ok(hub(path, "channel", "create", room, "random"))
    ids = {}
    for key, where, text, extra in [
        ("one", room, "first of the day", []), ("two", room, "the lan party is on saturday", []),
        ("three", room, "bring pizza to the lan party", ["--channel", "random"]), ("four", room, "see https://example.org", []),
        ("five", other, "a pizza book", []), ("six", room, "last words here", []),
    ]:
        ids[key] = ok(hub(path, "send", where, text, *extra)).strip()
    ok(hub(path, "pin", room, ids["six"]))
    p = Profile(request.param, path, room, other, ids)
    if p.mode == "node":
        p.log = base / "node.log"
        p.node, _port = start_node(path, p.log)
    try:
        yield p
    finally:
        if p.node is not None and p.log is not None:
            stop_node(p.node, path, p.log)


def test_search_prints_matches_newest_first(prof: Profile) -> None:
    lines = prof.ok("search", "pizza").splitlines()
    assert len(lines) == 2
    assert "Book club #general" in lines[0] and "a «pizza» book" in lines[0] and prof.ids["five"] in lines[0]
    assert "Team #random" in lines[1] and "alice: bring «pizza» to the lan party" in lines[1]
    assert prof.ok("search", "pizza", "--room", "Team").count("\n") == 1
    assert "«lan party»" in prof.ok("search", '"lan party"', "--room", "Team", "--limit", "1")
    assert prof.ok("search", "nothingmatchesthis") == ""
    assert not prof.mode == "node" or prof.ran("search")


def test_search_json_has_the_history_fields_plus_room_and_snippet(prof: Profile) -> None:
    records = json.loads(prof.ok("search", "party in:#general", "--json"))
    history = {r["id"]: r for r in json.loads(prof.ok("history", prof.room, "--json"))}
    assert [r["id"] for r in records] == [prof.ids["two"]]
    r = records[0]
    assert set(history[r["id"]]) <= set(r) and all(r[k] == v for k, v in history[r["id"]].items())
    assert r["room"] == prof.room and r["room_name"] == "Team" and r["snippet"] == "the lan «party» is on saturday"
    assert r["link"] == message_link(bytes.fromhex(prof.room), r["id"])
    pinned = json.loads(prof.ok("search", "is:pinned", "--json"))
    assert [p["id"] for p in pinned] == [prof.ids["six"]] and pinned[0]["pinned"] is True
    assert [x["id"] for x in json.loads(prof.ok("search", "has:link", "--json"))] == [prof.ids["four"]]


def test_search_refusals_are_one_sentence(prof: Profile) -> None:
    assert "not a date" in prof.refused("search", "before:whenever")
    assert "has:file or has:link" in prof.refused("search", "has:cats")
    assert "no room called" in prof.refused("search", "pizza", "--room", "Nowhere")


def test_a_message_sent_meanwhile_is_found_at_once(prof: Profile) -> None:
    mid = prof.ok("send", prof.room, "a brandnewword appears").strip()
    assert mid in prof.ok("search", "brandnewword")
    prof.ok("edit", prof.room, mid, "a replacedword appears")
    assert prof.ok("search", "brandnewword") == "" and mid in prof.ok("search", "replacedword")
    prof.ok("delete", prof.room, mid)
    assert prof.ok("search", "replacedword") == ""


def test_open_prints_the_message_in_its_context(prof: Profile) -> None:
    link = message_link(bytes.fromhex(prof.room), prof.ids["two"])
    out = prof.ok("open", link).splitlines()
    assert out[0] == "Team #general"
    marked = [line for line in out if line.startswith(">")]
    assert len(marked) == 1 and "the lan party is on saturday" in marked[0]
    assert any("first of the day" in line for line in out) and any("last words here" in line for line in out)
    assert not any("bring pizza" in line for line in out)  # another channel
    data = json.loads(prof.ok("open", link, "--json"))
    assert data["message"] == prof.ids["two"] and data["channel_name"] == "general"
    assert prof.ids["two"] in [m["id"] for m in data["messages"]]
    assert not prof.mode == "node" or prof.ran("open")


def test_open_refusals_are_one_sentence(prof: Profile) -> None:
    elsewhere = message_link(bytes(range(32)), prof.ids["two"])
    assert "a room you are not in" in prof.refused("open", elsewhere)
    assert "not in Team" in prof.refused("open", message_link(bytes.fromhex(prof.room), "AAAAAAAAzz"))
    assert "damaged" in prof.refused("open", "hubbub://message/xyz")
    invite = prof.ok("invite", prof.room).strip()
    assert "hubbub join" in prof.refused("open", invite)
