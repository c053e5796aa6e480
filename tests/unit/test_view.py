"""The read model: replies, mentions, reactions, edits, tombstones, pins, threads, forwards, disappearing messages, favorites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from app.errors import HubbubError
from app.profile import Profile, open_profile
from app.room import Room
from crdt.room import RoomLog
from crdt.schema import CHANNELS, MESSAGES, short_id
from crdt.view import RoomView
from tests.helpers import add_member, new_room, post, pub, short


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[Profile]:
    p = open_profile(tmp_path / "alice", display_name="alice")
    yield p
    p.close()


@pytest.fixture
def room(profile: Profile) -> Room:
    return Room.create(profile, "view room")


def test_reply_points_at_its_target(room: Room) -> None:
    first = room.post("general", "question?")
    answer = room.post("general", "answer", reply_to=first)
    msgs = {m.id: m for m in room.history()}
    assert msgs[answer].reply_to == first
    assert msgs[first].reply_to is None


def test_mentions_resolve_member_names(room: Room) -> None:
    bob = SigningKey.generate()
    room.add_member(pub(bob), name="bob")
    mid = room.post("general", "hey @bob and @alice, not @nobody")
    msg = room.message(mid)
    assert sorted(msg.mentions) == sorted([short(bob), short_id(room.me)])
    assert room.message(room.post("general", "no mentions here")).mentions == []


def test_reactions_add_and_remove(room: Room) -> None:
    mid = room.post("general", "react to me")
    room.react(mid, "👍")
    room.react(mid, "🎉")
    assert room.react(mid, "👍") is None  # once per person and emoji
    assert room.message(mid).reactions == {"👍": [short_id(room.me)], "🎉": [short_id(room.me)]}
    room.unreact(mid, "👍")
    assert room.message(mid).reactions == {"🎉": [short_id(room.me)]}
    room.toggle_reaction(mid, "🎉")
    assert room.message(mid).reactions == {}


def test_reactions_from_several_members_are_grouped() -> None:
    owner, bob = SigningKey.generate(), SigningKey.generate()
    log, _, _ = new_room(owner)
    add_member(log, owner, bob)
    mid = post(log, owner, "hello")
    log.write_value(owner, "r", {"m": mid, "e": "👍"})
    log.write_value(bob, "r", {"m": mid, "e": "👍"})
    msg = log.view().message(mid)
    assert msg is not None and sorted(msg.reactions["👍"]) == sorted([short(owner), short(bob)])


def test_edits_keep_history(room: Room) -> None:
    mid = room.post("general", "frist")
    room.edit(mid, "first")
    room.edit(mid, "first!")
    msg = room.message(mid)
    assert msg.text == "first!" and msg.edited
    assert [e.text for e in msg.edits] == ["frist", "first", "first!"]
    assert msg.original_text == "frist"


def test_delete_leaves_a_tombstone_without_text(room: Room) -> None:
    a = room.post("general", "keep")
    b = room.post("general", "secret to delete")
    room.edit(b, "secret, edited")
    c = room.post("general", "after")
    room.delete(b)
    history = room.history()
    assert [m.id for m in history] == [a, b, c]  # it keeps its place
    tomb = history[1]
    assert tomb.deleted and tomb.text == "" and tomb.edits == []
    assert b not in room.log.maps[MESSAGES]  # the value itself is gone from the document
    assert all("secret" not in str(v) for v in room.log.maps[MESSAGES].to_py().values())
    with pytest.raises(HubbubError, match="deleted"):
        room.edit(b, "zombie")


def test_pins(room: Room) -> None:
    a = room.post("general", "pin me")
    b = room.post("general", "not me")
    room.pin(a)
    assert room.message(a).pinned and not room.message(b).pinned
    assert [m.id for m in room.view.pinned("general")] == [a]
    room.unpin(a)
    assert not room.message(a).pinned and room.view.pinned() == []


def test_threads_collect_their_replies(room: Room) -> None:
    root = room.post("general", "thread root")
    r1 = room.post("general", "in thread 1", thread=root)
    r2 = room.post("general", "in thread 2", reply_to=r1)  # a reply inside a thread stays in it
    room.post("general", "not in thread")
    assert [m.id for m in room.view.thread(root)] == [r1, r2]
    assert room.message(r2).thread == root


def test_forward_keeps_provenance(profile: Profile, room: Room) -> None:
    other = Room.create(profile, "elsewhere")
    mid = room.post("general", "worth sharing")
    fid = room.forward(mid, other)
    fwd = other.message(fid)
    assert fwd.text == "worth sharing"
    assert fwd.forward is not None
    assert fwd.forward["id"] == mid and fwd.forward["room"] == "view room"
    assert fwd.forward["room_id"] == room.id.hex()[:16] and fwd.forward["author"] == "alice"


def _ttl_room(channel_ttl: float | None = None):
    owner = SigningKey.generate()
    log, _, _ = new_room(owner)
    value = {"id": "general", "n": "general", "k": "text"}
    if channel_ttl:
        value["ttl"] = channel_ttl
    log.write_value(owner, CHANNELS, value)
    return log, owner


def test_message_ttl_disappears_from_history_and_page() -> None:
    log, owner = _ttl_room()
    lasting = post(log, owner, "lasting", ts=1_000.0)
    brief = post(log, owner, "brief", ts=2_000.0, ttl=10.0)
    view = log.view()
    ids = lambda now: [m.id for m in view.history("general", now_ms=now)]  # noqa: E731
    assert ids(2_000.0 + 9_999) == [lasting, brief]
    assert ids(2_000.0 + 10_000) == [lasting]
    assert [m.id for m in view.page("general", 10, now_ms=50_000.0)] == [lasting]
    assert view.message(brief, now_ms=50_000.0) is None
    assert view.expired(50_000.0) == [brief] and view.expired(5_000.0) == []


def test_channel_ttl_applies_to_messages_without_their_own() -> None:
    log, owner = _ttl_room(channel_ttl=60.0)
    old = post(log, owner, "old", ts=1_000.0)
    new = post(log, owner, "new", ts=50_000.0)
    view = log.view()
    assert view.channel_ttl("general") == 60.0
    assert [m.id for m in view.history("general", now_ms=61_000.0)] == [new]
    assert [m.id for m in view.history("general", now_ms=30_000.0)] == [old, new]
    assert [m.id for m in view.history("general", now_ms=200_000.0)] == []
    assert sorted(view.expired(200_000.0)) == sorted([old, new])


def test_expired_message_content_is_purged_from_the_store(room: Room) -> None:
    import time

    mid = room.post("general", "self destruct", ttl=0.05)
    keep = room.post("general", "stays")
    time.sleep(0.1)
    assert [m.id for m in room.history()] == [keep]
    assert room.purge_expired() >= 1
    entries = room.profile.store.all_entries(room.id)
    seq = int(mid[8:], 36)
    mine = [e for e in entries if e.author == room.me and e.seq == seq]
    assert mine and mine[0].ciphertext is None
    reopened = Room.open(room.profile, room.id)
    assert [m.id for m in reopened.history()] == [keep]


def test_favorites_are_local_and_not_synced(tmp_path: Path, profile: Profile, room: Room) -> None:
    from app.node import Node

    mid = room.post("general", "favorite this")
    count = room.profile.store.count(room.id)
    heads = room.log.heads()
    room.profile.store.set_favorite(room.id, mid, True)
    assert room.profile.store.favorites(room.id) == {mid}
    assert room.profile.store.count(room.id) == count and room.log.heads() == heads  # no entry was written
    out = tmp_path / "room.log"
    Node(profile).export(room, "log", out)
    other = open_profile(tmp_path / "bob", display_name="bob")
    try:
        node = Node(other)
        node.import_log(out)
        assert node.room(room.id).message(mid).text == "favorite this"
        assert other.store.favorites(room.id) == set()
    finally:
        other.close()
    room.profile.store.set_favorite(room.id, mid, False)
    assert room.profile.store.favorites(room.id) == set()


def test_view_follows_document_updates_after_creation(room: Room) -> None:
    view = room.log.view()
    assert view.history("general") == []
    mid = room.post("general", "late")
    assert [m.id for m in view.history("general")] == [mid]
    assert view.count("general") == 1


def test_live_view_keeps_tombstone_when_message_and_delete_arrive_together() -> None:
    owner = SigningKey.generate()
    source, genesis, key = new_room(owner)
    entries = [genesis]
    for value, delete in (({"c": "general", "t": "kept", "ts": 1.0}, []), ({"c": "general", "t": "gone", "ts": 2.0}, [])):
        entries += source.write_value(owner, MESSAGES, value, delete)[1].accepted
    kept, gone = sorted(source.maps[MESSAGES].keys())
    entries += source.write_value(owner, "x", {"m": gone, "c": "general", "ots": 2.0, "ts": 3.0}, [gone])[1].accepted
    rebuilt = [(m.id, m.deleted) for m in source.view().history("general")]
    assert rebuilt == [(kept, False), (gone, True)]

    replica = RoomLog(source.room_id, {source.room_id: key})
    live = replica.view()  # open before the entries arrive, as a running node's view is
    assert len(replica.ingest(entries).accepted) == len(entries)
    assert [(m.id, m.deleted) for m in replica.view().history("general")] == rebuilt
    assert [(m.id, m.deleted) for m in live.history("general")] == rebuilt


def test_live_and_rebuilt_views_agree_when_a_delete_marker_misstates_time_and_channel() -> None:
    """Validation does not check a deletion's `ots`/`c` against the message, so the view must not trust them
    differently when live and when rebuilt: every node (and every reopen) has to show the same history."""
    owner = SigningKey.generate()
    log, _, _ = new_room(owner)
    live = log.view()
    a = post(log, owner, "a", ts=1_000.0)
    b = post(log, owner, "b", ts=2_000.0)
    log.write_value(owner, "x", {"m": b, "c": "elsewhere", "ots": 1.0, "ts": 3_000.0}, [b])
    rebuilt = log.view()
    for channel in ("general", "elsewhere"):
        assert [(m.id, m.deleted) for m in live.history(channel)] == [(m.id, m.deleted) for m in rebuilt.history(channel)]
    assert a in [m.id for m in rebuilt.history("general")]
