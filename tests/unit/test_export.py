"""Exports (html, json, md, log) and importing a signed log, including a tampered one."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.errors import BadFile, HubbubError
from app.node import Node
from app.profile import open_profile
from app.room import Room


@dataclass
class Fixture:
    node: Node
    room: Room
    first: str
    reply: str
    deleted: str
    plain: str


@pytest.fixture
def fx(tmp_path: Path) -> Iterator[Fixture]:
    node = Node(open_profile(tmp_path / "alice", display_name="alice"))
    room = node.create_room("Export Room")
    first = room.post("general", "first draft with **bold**")
    room.edit(first, "first message with **bold**")
    room.react(first, "👍")
    room.pin(first)
    reply = room.post("general", "a reply <script>alert(1)</script>", reply_to=first)
    deleted = room.post("general", "regrettable words")
    room.delete(deleted)
    plain = room.post("general", "the last word")
    yield Fixture(node, room, first, reply, deleted, plain)
    node.close()


def test_html_is_one_standalone_page(fx: Fixture, tmp_path: Path) -> None:
    out = tmp_path / "room.html"
    size = fx.node.export(fx.room, "html", out)
    page = out.read_text(encoding="utf-8")
    assert size == len(page.encode("utf-8"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("room")] == ["room.html"]
    assert page.lower().startswith("<!doctype html>")
    assert re.search(r"<style>.+</style>", page, re.S), "no inline CSS"
    assert not re.search(r"<link[^>]+stylesheet|<script[^>]+src=|<img[^>]+src=\"?https?:", page, re.I), "depends on another file"
    # reply shown with a link to its target
    assert f'href="#m-{fx.first}"' in page and "↪" in page
    # reactions
    assert re.search(r"👍 1</span>", page)
    # edits: the current text, and the earlier version kept
    assert "first message with" in page and "first draft with **bold**" in page and "edited" in page
    # pins: the message is marked and listed
    assert f'class="msg pinned" id="m-{fx.first}"' in page and "Pinned" in page
    # deleted: a tombstone, no text
    assert "message deleted" in page and "regrettable" not in page
    # user text is escaped
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "the last word" in page and "Export Room" in page


def test_json_export_holds_the_messages(fx: Fixture, tmp_path: Path) -> None:
    out = tmp_path / "room.json"
    fx.node.export(fx.room, "json", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["room"] == "Export Room" and doc["room_id"] == fx.room.id.hex()
    general = next(c for c in doc["channels"] if c["id"] == "general")
    by_id = {m["id"]: m for m in general["messages"]}
    assert list(by_id) == [fx.first, fx.reply, fx.deleted, fx.plain]
    first = by_id[fx.first]
    assert first["text"] == "first message with **bold**" and first["edited"] is True
    assert [e["text"] for e in first["edits"]] == ["first draft with **bold**", "first message with **bold**"]
    assert first["reactions"] == {"👍": ["alice"]} and first["pinned"] is True
    assert by_id[fx.reply]["reply_to"] == fx.first
    assert by_id[fx.deleted]["deleted"] is True and by_id[fx.deleted]["text"] == ""
    assert by_id[fx.plain]["author_name"] == "alice"


def test_markdown_export_holds_the_messages(fx: Fixture, tmp_path: Path) -> None:
    out = tmp_path / "room.md"
    fx.node.export(fx.room, "md", out)
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# Export Room")
    assert "## #general" in md
    for text in ("first message with **bold**", "a reply <script>alert(1)</script>", "the last word"):
        assert text in md
    assert "regrettable" not in md and "(message deleted)" in md
    assert "> ↪ alice: first message with **bold**" in md
    assert "👍 1" in md and "pinned" in md


def test_log_export_is_secret_and_imports_into_a_fresh_profile(fx: Fixture, tmp_path: Path) -> None:
    out = tmp_path / "room.hubbub"
    fx.node.export(fx.room, "log", out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    try:
        report = bob.import_log(out)
        assert report.room_id == fx.room.id and report.problems == []
        assert report.added == fx.node.profile.store.count(fx.room.id)
        bob.close()  # read it back as `hubbub history` would: a new process opening the profile
        bob = Node(open_profile(tmp_path / "bob"))
        copy = bob.room(fx.room.id)
        mine = [(m.id, m.text, m.deleted, m.pinned, m.reply_to) for m in fx.room.history()]
        assert [(m.id, m.text, m.deleted, m.pinned, m.reply_to) for m in copy.history()] == mine
        assert copy.name == "Export Room"
        with pytest.raises(HubbubError, match="not a member"):
            copy.post("general", "let me in")
        assert [(m.id, m.text) for m in copy.history()] == [(m[0], m[1]) for m in mine]
        # importing again adds nothing
        again = bob.import_log(out)
        assert again.added == 0 and again.known == report.added
    finally:
        bob.close()


def test_tampered_entry_is_reported_and_skipped_and_the_rest_applied(fx: Fixture, tmp_path: Path) -> None:
    out = tmp_path / "room.hubbub"
    fx.node.export(fx.room, "log", out)
    victim_seq = int(fx.reply[8:], 36)
    entries = fx.node.profile.store.all_entries(fx.room.id)
    victim = next(e for e in entries if e.author == fx.room.me and e.seq == victim_seq)
    assert victim.ciphertext is not None
    data = bytearray(out.read_bytes())
    at = bytes(data).find(victim.ciphertext)
    assert at > 0 and bytes(data).count(victim.ciphertext) == 1
    data[at + len(victim.ciphertext) // 2] ^= 0x40
    out.write_bytes(bytes(data))

    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    try:
        report = bob.import_log(out)
        assert len(report.problems) == 1, report.problems
        problem = report.problems[0]
        assert f"entry {victim_seq} " in problem and fx.room.me.hex()[:12] in problem
        assert "tampered" in problem or "hash" in problem
        copy = bob.room(fx.room.id)
        texts = {m.id: m.text for m in copy.history()}
        assert fx.reply not in texts or texts[fx.reply] != "a reply <script>alert(1)</script>"
        assert texts[fx.first] == "first message with **bold**"
        assert texts[fx.plain] == "the last word"  # written after the tampered entry, still applied
        assert copy.message(fx.first).pinned
    finally:
        bob.close()


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"HUBBUB-LOG 1\n\xff\xff\xff"])
def test_corrupt_log_is_a_bad_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.hubbub"
    path.write_bytes(content)
    node = Node(open_profile(tmp_path / "p"))
    try:
        with pytest.raises(BadFile) as info:
            node.import_log(path)
        assert str(info.value).endswith(".") or str(info.value).endswith(")")
        assert node.room_list() == []
    finally:
        node.close()


def test_unknown_export_format_is_refused(fx: Fixture, tmp_path: Path) -> None:
    with pytest.raises(HubbubError, match="format"):
        fx.node.export(fx.room, "pdf", tmp_path / "x.pdf")


@pytest.mark.parametrize("text,html", [("rob", "rob"), ("bar", "bar"), ("**bold**", "<strong>bold</strong>"),
                                       ("a\nb", "a<br>b")])
def test_markdown_html_keeps_the_text(text: str, html: str) -> None:
    from app.render import markdown_html

    assert markdown_html(text) == html


def test_markdown_html_renders_code_and_escapes() -> None:
    from app.render import markdown_html

    out = markdown_html("see `x<y` and\n```\n<b>raw</b>\n```")
    assert "<code>x&lt;y</code>" in out and "<pre><code>&lt;b&gt;raw&lt;/b&gt;" in out and "<b>raw" not in out


def test_a_log_carrying_wrong_keys_for_a_room_we_hold_changes_no_key_and_the_room_still_opens(fx: Fixture, tmp_path: Path) -> None:
    import os

    from crdt.logfile import read_log, write_log

    out = tmp_path / "room.hubbub"
    fx.node.export(fx.room, "log", out)
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    try:
        assert bob.import_log(out).problems == []
        held = bob.profile.store.keys(fx.room.id)
        parsed = read_log(out.read_bytes())
        hostile = tmp_path / "hostile.hubbub"
        bogus = {rotation: os.urandom(32) for rotation in parsed.keys} | {os.urandom(32): os.urandom(32)}
        write_log(hostile, parsed.room_id, parsed.name, bogus, parsed.entries)
        report = bob.import_log(hostile)
        assert report.added == 0
        assert bob.profile.store.keys(fx.room.id) == held, "a log file's keys replaced or joined the keys we hold"
        bob.close()
        bob = Node(open_profile(tmp_path / "bob"))
        assert [m.text for m in bob.room(fx.room.id).history()] == [m.text for m in fx.room.history()]
    finally:
        bob.close()


def test_a_new_key_from_a_log_is_kept_only_once_it_matches_its_rotation(fx: Fixture, tmp_path: Path) -> None:
    import os

    from crdt.logfile import read_log, write_log

    out = tmp_path / "room.hubbub"
    fx.node.export(fx.room, "log", out)
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    carol = open_profile(tmp_path / "carol", display_name="carol")
    try:
        bob.import_log(out)
        fx.room.add_member(carol.public_key, name="carol")
        fx.room.remove_member(carol.public_key)  # a rotation: a new key
        fx.room.post("general", "after the rotation")
        fx.node.export(fx.room, "log", out)
        parsed = read_log(out.read_bytes())
        rotation = next(r for r in parsed.keys if r != fx.room.id)
        wrong = dict(parsed.keys) | {rotation: os.urandom(32)}
        write_log(tmp_path / "wrong.hubbub", parsed.room_id, parsed.name, wrong, parsed.entries)
        report = bob.import_log(tmp_path / "wrong.hubbub")
        assert rotation not in bob.profile.store.keys(fx.room.id) and report.skipped > 0
        assert "after the rotation" not in [m.text for m in bob.room(fx.room.id).history()]
        report = bob.import_log(out)
        assert rotation in bob.profile.store.keys(fx.room.id) and report.skipped == 0
        assert "after the rotation" in [m.text for m in bob.room(fx.room.id).history()]
    finally:
        carol.close()
        bob.close()


@pytest.mark.parametrize("depth", [50, 100_000])
def test_deeply_nested_json_in_a_log_header_is_a_bad_file_not_a_traceback(tmp_path: Path, depth: int) -> None:
    from crdt.logfile import MAGIC
    from crdt.varint import write_uint

    header = b'{"room_id":' + b"[" * depth + b"]" * depth + b',"keys":{}}'
    data = bytearray(MAGIC)
    write_uint(data, len(header))
    data += header
    path = tmp_path / "deep.hubbub"
    path.write_bytes(bytes(data))
    node = Node(open_profile(tmp_path / "p"))
    try:
        with pytest.raises(BadFile, match="nests too deeply|damaged|too large"):
            node.import_log(path)
    finally:
        node.close()


@pytest.mark.parametrize("payload", [b'{"t":"presence","s":' + b"[" * 40 + b"]" * 40 + b"}", b"[" * 3000, b'"\xff"'])
def test_live_messages_that_nest_deeply_or_are_not_json_are_wire_errors(payload: bytes) -> None:
    from app.wire import WireError, decode_live

    with pytest.raises(WireError):
        decode_live(payload)


def test_html_reply_quote_shows_the_text_without_markdown_marks(fx: Fixture, tmp_path: Path) -> None:
    """Issue 11, defect 10: the quote above a reply showed raw `**`."""
    out = tmp_path / "room.html"
    fx.node.export(fx.room, "html", out)
    page = out.read_text(encoding="utf-8")
    quote = re.search(r"<div class=reply>(.*?)</div>", page, re.S)
    assert quote is not None
    assert "alice: first message with bold" in quote.group(1) and "**" not in quote.group(1)


def test_html_lists_are_bulleted_and_code_is_styled(fx: Fixture, tmp_path: Path) -> None:
    """Issue 11, defect 10: `- ` lists were not bulleted, and inline code had no styling."""
    fx.room.post("general", "todo:\n- run `make test`\n- ship it\n```\nblock\n```")
    out = tmp_path / "room.html"
    fx.node.export(fx.room, "html", out)
    page = out.read_text(encoding="utf-8")
    assert "<ul>\n<li>run <code>make test</code></li>\n<li>ship it</li>\n</ul>" in page
    assert "<pre><code>block</code></pre>" in page
    css = re.search(r"<style>(.*)</style>", page, re.S)
    assert css is not None
    rules = {k.strip(): v for k, v in re.findall(r"([^{}]+)\{([^}]*)\}", css.group(1))}
    assert "background" in rules["code"] and "monospace" in rules["code,pre"]
    assert "disc" in rules[".text ul"] and "background" in rules["pre"]


def test_importing_a_log_keeps_the_tombstone_of_a_message_erased_before_the_export(fx: Fixture, tmp_path: Path) -> None:
    """Issue 11, defect 8: an entry hollowed by a legitimate delete is not a problem, and the deletion stays."""
    assert fx.room.purge_expired() >= 1  # the deleted message's content is erased, as a running node does
    out = tmp_path / "room.hubbub"
    fx.node.export(fx.room, "log", out)
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    try:
        report = bob.import_log(out)
        assert report.problems == [] and report.skipped == 0
        copy = bob.room(fx.room.id)
        gone = copy.message(fx.deleted)
        assert gone.deleted and gone.text == ""
        assert [m.id for m in copy.history()] == [m.id for m in fx.room.history()]
    finally:
        bob.close()
