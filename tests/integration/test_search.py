"""Local full-text search on real profiles: every query form, edits, deletions, expiry and retractions, local and remote,
and removed text gone from the index's files (the database and its write-ahead log) after the next erasure."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from app.errors import HubbubError
from app.node import Node
from app.profile import open_profile
from app.room import Room
from app.search.index import Doc, Scope, SearchIndex
from app.search.query import QueryError, parse_query

pytestmark = pytest.mark.timeout(120)

OLD = datetime(2023, 3, 10, 12).timestamp() * 1000  # a message written long ago (its author's clock)


def files_holding(profile: Path, *words: bytes) -> list[str]:
    """The files of the profile in which any of `words` occurs (a deleted message's words, say)."""
    out = []
    for p in profile.rglob("*"):
        if p.is_file():
            data = p.read_bytes().lower()
            out.extend(f"{p.name}: {w!r}" for w in words if w.lower() in data)
    return out


def texts(node: Node, query: str, room: Room | None = None) -> list[str]:
    return [h.message.text for h in node.search(query, room)]


def carry(src: Node, room: Room, dst: Node, tmp: Path) -> Room:
    """Hand `room`'s log from one profile to another, as a USB stick would (remote entries for `dst`)."""
    path = tmp / f"carry-{time.monotonic_ns()}.log"
    src.export(room, "log", path)
    dst.import_log(path)
    return dst.room(room.id)


@dataclass
class Pair:
    alice: Node
    bob: Node
    room: Room        # alice's copy
    bob_room: Room    # bob's copy
    tmp: Path

    def to_alice(self) -> None:
        carry(self.bob, self.bob_room, self.alice, self.tmp)

    def to_bob(self) -> None:
        carry(self.alice, self.room, self.bob, self.tmp)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    alice = Node(open_profile(tmp_path / "alice", display_name="alice"))
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    room = alice.create_room("Search party")
    room.create_channel("random")
    room.add_member(bob.profile.public_key, name="bob")
    bob_room = carry(alice, room, bob, tmp_path)
    p = Pair(alice, bob, room, bob_room, tmp_path)
    yield p
    for node in (alice, bob):
        node.close()


def with_file(room: Room, text: str) -> str:
    """A message with an attachment: one file manifest as the files feature writes it (crdt/attachments.py)."""
    return room.post("general", text, attachments=[{"n": "plan.pdf", "s": 1234, "m": "application/pdf",
                                                    "k": bytes(range(32)), "h": bytes(32)}])


def test_every_query_form(pair: Pair) -> None:
    room = pair.room
    room.post("general", "the old lan party photos")
    room.post("general", "who brings pizza to the lan party tonight?")
    room.post("random", "party lan is not a phrase here")
    room.post("general", "the deployment is done, see https://example.org/release")
    pinned = room.post("general", "rules: no spoilers")
    room.pin(pinned)
    with_file(room, "the floor plan for saturday")
    pair.bob_room.post("general", "I bring the pizza and the deploy keys")
    pair.to_alice()

    assert texts(pair.alice, "pizza") == ["I bring the pizza and the deploy keys", "who brings pizza to the lan party tonight?"]
    assert texts(pair.alice, "PIZZA tonight") == ["who brings pizza to the lan party tonight?"]  # every word, any case
    assert texts(pair.alice, '"lan party"') == ["who brings pizza to the lan party tonight?", "the old lan party photos"]
    assert texts(pair.alice, "deploy*") == ["I bring the pizza and the deploy keys", "the deployment is done, see https://example.org/release"]
    assert texts(pair.alice, "deploy") == ["I bring the pizza and the deploy keys"]
    assert texts(pair.alice, "pizza -tonight") == ["I bring the pizza and the deploy keys"]
    assert texts(pair.alice, "pizza from:bob") == ["I bring the pizza and the deploy keys"]
    assert texts(pair.alice, "from:alice pizza") == ["who brings pizza to the lan party tonight?"]
    assert texts(pair.alice, "party in:#random") == ["party lan is not a phrase here"]
    assert texts(pair.alice, "has:link") == ["the deployment is done, see https://example.org/release"]
    assert texts(pair.alice, "has:file") == ["the floor plan for saturday"]
    assert texts(pair.alice, "is:pinned") == ["rules: no spoilers"]
    soon, past = (datetime.fromtimestamp(time.time() + d).strftime("%Y-%m-%dT%H:%M") for d in (120, -120))
    assert len(texts(pair.alice, f"party before:{soon}")) == 3 and texts(pair.alice, f"party before:{past}") == []
    assert len(texts(pair.alice, f"party after:{past}")) == 3 and texts(pair.alice, f"party after:{soon}") == []
    assert texts(pair.alice, "party before:2000-01") == [] and len(texts(pair.alice, "party after:yesterday")) == 3
    assert texts(pair.alice, "from:nobody") == [] and texts(pair.alice, "in:#nowhere") == []

    hits = pair.alice.search("tonight")
    assert hits[0].marked() == "who brings pizza to the lan party «tonight»?"
    assert hits[0].room.id == room.id and hits[0].channel_name == "general"
    times = [h.message.ts for h in pair.alice.search("the")]
    assert times == sorted(times, reverse=True) and len(times) == 5  # newest first


def test_dates_and_order_follow_the_messages_time(tmp_path: Path) -> None:
    """Messages from any time (synced from long ago, say), straight into the index: before:, after:, newest first."""
    index = SearchIndex(tmp_path / "search.sqlite")
    day = 86_400_000
    for i, (ts, text) in enumerate([(OLD, "old party"), (OLD + 400 * day, "newer party"), (OLD + 1, "old party too"),
                                    (-5.0, "party before the epoch"), (1e30, "party in a far future")]):
        index.put(1, Doc("AAAAAAAA", i + 1, "general", ts, 0, text))
    scope = Scope([1])

    def found(text: str) -> list[str]:
        return [c.message_id for c in index.find(parse_query(text), scope)]

    assert found("party") == ["AAAAAAAA5", "AAAAAAAA2", "AAAAAAAA3", "AAAAAAAA1", "AAAAAAAA4"]
    assert found("party before:2023-03-11") == ["AAAAAAAA3", "AAAAAAAA1", "AAAAAAAA4"]
    assert found("party after:2023-03-10") == ["AAAAAAAA5", "AAAAAAAA2"]
    assert found("party after:2023 before:2024-06") == ["AAAAAAAA2"]
    index.close()


def test_search_in_one_room_or_all(pair: Pair) -> None:
    other = pair.alice.create_room("Book club")
    other.post("general", "the pizza book is great")
    pair.room.post("general", "pizza again")
    assert len(pair.alice.search("pizza")) == 2
    assert texts(pair.alice, "pizza", other) == ["the pizza book is great"]


@pytest.mark.parametrize("query", [
    'NEAR(a b', '"', '""', '*', '-', 'a OR', 'AND', '^start', 'body:x', 'col : x', '(', ')', '{a b}', "a'b", '"a" "b',
    "\x00", "zz" * 5000, "ß ÜBER 漢字 🎉", 'from:', 'in:#', '- -- ---', '*pizza*', 'pi*zza', "%_", "NOT pizza",
])
def test_a_hostile_query_neither_errors_nor_finds_by_syntax(pair: Pair, query: str) -> None:
    pair.room.post("general", "pizza über alles")
    hits = pair.alice.search(query)  # no exception at all
    assert all("pizza" in h.message.text for h in hits)


def test_a_filter_that_cannot_be_read_is_a_sentence(pair: Pair) -> None:
    with pytest.raises(QueryError, match="not a date"):
        pair.alice.search("before:soon")


def test_an_edited_message_is_found_by_its_new_text_only(pair: Pair) -> None:
    mid = pair.room.post("general", "meet at the crimsonfalcon gate")
    pair.room.edit(mid, "meet at the azurepelican gate")
    assert texts(pair.alice, "crimsonfalcon") == []
    assert texts(pair.alice, "azurepelican") == ["meet at the azurepelican gate"]
    # the same when the edit arrives from another node
    pair.to_bob()
    bob_mid = pair.bob_room.post("general", "my goldenmarmot plan")
    pair.to_alice()
    assert texts(pair.alice, "goldenmarmot") == ["my goldenmarmot plan"]
    pair.bob_room.edit(bob_mid, "my silverotter plan")
    pair.to_alice()
    assert texts(pair.alice, "goldenmarmot") == [] and texts(pair.alice, "silverotter") == ["my silverotter plan"]


def test_a_deleted_message_is_not_found_and_its_words_leave_the_files(pair: Pair) -> None:
    words = (b"quokkasecret", b"narwhalhidden")
    pair.room.post("general", "kept for later")
    mid = pair.room.post("general", "the quokkasecret and the narwhalhidden")
    pair.alice.search("kept")  # the index holds it (and its segments, and its write-ahead log)
    assert files_holding(pair.alice.profile.path, *words), "the test cannot see the words to begin with"
    pair.room.delete(mid)
    assert texts(pair.alice, "quokkasecret") == [] and texts(pair.alice, "narwhalhidden") == []
    pair.room.purge_expired()  # the erasure the node runs every few seconds (and on close)
    assert files_holding(pair.alice.profile.path, *words) == []
    assert texts(pair.alice, "kept") == ["kept for later"]


def test_a_message_deleted_on_another_node_leaves_this_ones_index(pair: Pair) -> None:
    mid = pair.bob_room.post("general", "a wombatconfession from bob")
    pair.to_alice()
    assert texts(pair.alice, "wombatconfession") == ["a wombatconfession from bob"]
    pair.bob_room.delete(mid)
    pair.to_alice()
    assert texts(pair.alice, "wombatconfession") == []
    pair.alice.room(pair.room.id).purge_expired()
    pair.alice.close()
    assert files_holding(pair.alice.profile.path, b"wombatconfession") == []
    pair.alice = Node(open_profile(pair.alice.profile.path))


def test_an_expired_message_is_not_found_and_its_words_leave_the_files(pair: Pair) -> None:
    pair.room.post("general", "lasting words")
    pair.room.post("general", "an ephemeralkiwi passes", ttl=1)
    assert texts(pair.alice, "ephemeralkiwi") == ["an ephemeralkiwi passes"]
    time.sleep(1.2)
    assert texts(pair.alice, "ephemeralkiwi") == []  # at once, before any purge
    assert pair.room.purge_expired() == 1
    assert files_holding(pair.alice.profile.path, b"ephemeralkiwi") == []
    wal = pair.alice.profile.path / "search.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and emptied


def test_a_retracted_message_leaves_the_index(tmp_path: Path) -> None:
    """Carol holds Bob's message; then Alice's removal of Bob, made without having seen it, voids it everywhere."""
    alice, bob, carol = (Node(open_profile(tmp_path / n, display_name=n)) for n in ("alice", "bob", "carol"))
    room = alice.create_room("Strong removal")
    room.add_member(bob.profile.public_key, name="bob")
    bob_room = carry(alice, room, bob, tmp_path)
    bob_room.set_member_name("bob")  # an entry of Bob's that Alice sees before removing him
    carry(bob, bob_room, alice, tmp_path)
    bob_room.post("general", "a sneakyparrot message")
    carol_room = carry(bob, bob_room, carol, tmp_path)
    assert texts(carol, "sneakyparrot") == ["a sneakyparrot message"]
    room.remove_member(bob.profile.public_key)
    carry(alice, room, carol, tmp_path)
    assert not any(m.text == "a sneakyparrot message" for m in carol_room.history())
    assert texts(carol, "sneakyparrot") == []
    for node in (alice, bob, carol):
        node.close()


def test_an_index_that_is_missing_or_damaged_is_built_again(pair: Pair) -> None:
    pair.room.post("general", "rebuild me please")
    path = pair.alice.profile.path
    pair.alice.close()
    (path / "search.sqlite").write_bytes(b"this is not a database at all" * 100)
    pair.alice = Node(open_profile(path))
    assert texts(pair.alice, "rebuild") == ["rebuild me please"]
    pair.alice.close()
    for p in path.glob("search.sqlite*"):
        p.unlink()
    pair.alice = Node(open_profile(path))
    assert texts(pair.alice, "rebuild") == ["rebuild me please"]


def test_remote_messages_are_indexed_as_they_arrive(pair: Pair) -> None:
    pair.alice.search("anything")  # the room's index is current from here on
    before = pair.alice.searcher().index.count()
    for i in range(3):
        pair.bob_room.post("general", f"bob says {i}")
    pair.to_alice()
    feed = pair.alice.searcher().feed
    assert feed.pending() == 3 and feed.is_current(pair.room)  # noted by the ingest, indexed in one commit
    assert texts(pair.alice, "says") == ["bob says 2", "bob says 1", "bob says 0"]
    assert pair.alice.searcher().index.count() == before + 3 and feed.pending() == 0


def test_a_profile_whose_index_cannot_be_made_still_works(tmp_path: Path) -> None:
    path = tmp_path / "p"
    node = Node(open_profile(path, display_name="alice"))
    room = node.create_room("No search")
    node.close()
    (path / "search.sqlite").unlink()
    for p in path.glob("search.sqlite*"):
        p.unlink()
    (path / "search.sqlite").mkdir()  # something SQLite cannot open, in the index's place
    node = Node(open_profile(path))
    again = node.room(room.id)
    again.post("general", "still fine")
    with pytest.raises(HubbubError, match="Search is not available"):
        node.search("fine")
    node.close()


def test_messages_that_share_a_second_all_get_rows(tmp_path: Path) -> None:
    """A flood with one time (any member may claim any time): every message is indexed, by rows or a room at once."""
    index = SearchIndex(tmp_path / "search.sqlite")
    flood = [Doc("BBBBBBBB", i, "general", OLD, 0, f"flood {i}") for i in range(5000)]
    assert index.replace_room(1, flood, upto=1) == 5000
    for i in range(5000, 5100):
        index.put(2, Doc("CCCCCCCC", i, "general", OLD, 0, f"flood {i}"))
    index.put(2, Doc("CCCCCCCC", 5000, "general", OLD, 0, "flood 5000 edited"))
    assert index.count() == 5100
    found = index.find(parse_query("flood"), Scope([1, 2]), limit=6000)
    assert len(found) == 5100 and len({c.message_id for c in found}) == 5100
    assert [c.message_id for c in index.find(parse_query("edited"), Scope([2]))] == ["CCCCCCCC3uw"]
    assert index.remove(1, [("BBBBBBBB", i) for i in range(10)]) == 10 and index.count() == 5090
    index.close()
