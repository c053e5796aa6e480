"""The GUI logic without pixels: switcher filtering, mention completion, notification decisions, Up-to-edit."""

from __future__ import annotations

from pathlib import Path

from nacl.signing import SigningKey

from app.models import Message
from app.node import Node
from app.profile import open_profile
from ui.state.session import Session
from ui.state.composer import Completion, candidates, complete_mention, last_own_message, mention_query
from ui.state.notify import notification_text, should_notify
from ui.state.switcher import Target, filter_targets, score


def test_switcher_prefers_prefix_then_substring_then_subsequence() -> None:
    ts = [Target("#random  ·  Party", b"1", "random"), Target("Games", b"2"), Target("#general  ·  Games", b"2", "general")]
    assert [t.label for t in filter_targets(ts, "gam")][0] == "Games"
    assert [t.label for t in filter_targets(ts, "gnrl")] == ["#general  ·  Games"]
    assert filter_targets(ts, "zzz") == []
    assert score("", "x") == 0
    unread_first = filter_targets([Target("a", b"1"), Target("b", b"2", unread=3)], "")
    assert unread_first[0].label == "b"


def test_mention_detection_and_completion() -> None:
    assert mention_query("hi @bo", 6) == "bo"
    assert mention_query("mail a@b", 8) is None
    assert mention_query("hi @bo there", 12) is None
    assert complete_mention("hi @bo", 6, "bob") == ("hi @bob ", 8)
    assert complete_mention("@b and more", 2, "bella") == ("@bella  and more", 7)
    ms = [Completion("bob", "bb_1"), Completion("Abby", "ab_2"), Completion("rob", "rb_3")]
    assert [c.name for c in candidates(ms, "b")] == ["bob", "Abby", "rob"]
    assert [c.name for c in candidates(ms, "ob")] == ["bob", "rob"]


def _msg(author: str, **kw: object) -> Message:
    return Message(id=f"{author}:1", author=author, channel="general", text="hey", ts=1.0, **kw)  # type: ignore[arg-type]


def test_notifications_only_for_mentions_or_direct_while_unfocused() -> None:
    me = "me_1"
    assert should_notify(_msg("x", mentions=[me]), me, focused=False, direct=False)
    assert not should_notify(_msg("x", mentions=[me]), me, focused=True, direct=False)
    assert not should_notify(_msg("x"), me, focused=False, direct=False)
    assert should_notify(_msg("x"), me, focused=False, direct=True)
    assert not should_notify(_msg(me, mentions=[me]), me, focused=False, direct=True)
    assert notification_text("bob", "Party", "general", "a  b\nc", direct=False) == ("bob in Party #general", "a b c")


def test_up_edits_my_newest_live_message() -> None:
    msgs = [_msg("me"), _msg("x"), Message(id="me:2", author="me", channel="g", text="gone", ts=2, deleted=True)]
    found = last_own_message(msgs, "me")
    assert found is not None and found.id == "me:1"
    assert last_own_message([_msg("x")], "me") is None


def test_a_spare_empty_direct_room_is_left_out_of_the_list(tmp_path: Path, qtbot: object) -> None:
    """Two DMs with one person (both opened one at once): the list shows the one in use, or both if both hold messages."""
    node = Node(open_profile(tmp_path / "me", display_name="me"))
    bob = bytes(SigningKey.generate().verify_key)
    rooms = []
    for _ in range(2):
        room = node.create_room("me & bob")
        room.update_settings(direct=True)
        room.add_member(bob, name="bob")
        rooms.append(room)
    in_use, spare = sorted(rooms, key=lambda r: r.id)
    session = Session(node)
    for room in rooms:
        session.attach(room)
    listed = {s.room_id for s in session.summaries()}
    assert in_use.id in listed and spare.id not in listed
    spare.post("general", "written before both sides settled on one room")
    assert {in_use.id, spare.id} <= {s.room_id for s in session.summaries()}
