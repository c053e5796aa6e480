"""Who may do what (app/rights.py) and naming a member (app/members.py), on real rooms in real profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from nacl.signing import SigningKey

from app.errors import HubbubError
from app.members import find_member
from app.node import Node
from app.profile import open_profile
from app.rights import may_delete, may_edit, may_pin, may_remove, may_set_role, may_unpin
from crdt.schema import Role, short_id


def key() -> bytes:
    return bytes(SigningKey.generate().verify_key)


@pytest.fixture
def nodes(tmp_path: Path) -> dict[str, Node]:
    alice = Node(open_profile(tmp_path / "alice", display_name="alice"))
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    carol = Node(open_profile(tmp_path / "carol", display_name="carol"))
    room = alice.create_room("Club")
    room.add_member(bob.profile.public_key, "admin", "bob")
    room.add_member(carol.profile.public_key, "member", "carol")
    room.add_member(key(), "admin", "dana")
    room.post("general", "alice says hi")
    room.pin(room.history()[-1].id)
    log = tmp_path / "club.log"
    alice.export(room, "log", log)
    for other in (bob, carol):
        other.import_log(log)
    yield {"alice": alice, "bob": bob, "carol": carol}
    for n in (alice, bob, carol):
        n.close()


def test_message_rights_follow_the_role(nodes: dict[str, Node]) -> None:
    carol_room = nodes["carol"].find_room("Club")
    theirs = carol_room.history()[-1]
    assert "moderator" in str(may_delete(carol_room, theirs)) and "you are a member" in str(may_delete(carol_room, theirs))
    assert "moderator" in str(may_pin(carol_room, theirs))
    assert "moderator" in str(may_unpin(carol_room, theirs))
    assert "author" in str(may_edit(carol_room, theirs))
    mine = carol_room.message(carol_room.post("general", "carol's"))
    assert may_delete(carol_room, mine) is None and may_pin(carol_room, mine) is None and may_edit(carol_room, mine) is None
    bob_room = nodes["bob"].find_room("Club")  # an admin is above a moderator
    theirs = bob_room.history()[0]
    assert may_delete(bob_room, theirs) is None and may_unpin(bob_room, theirs) is None
    assert "author" in str(may_edit(bob_room, theirs))  # as in the app: only the author edits


def test_ranks_for_removal_and_roles(nodes: dict[str, Node]) -> None:
    bob_room = nodes["bob"].find_room("Club")
    members = {m.name: m for m in bob_room.members()}
    assert may_remove(bob_room, members["carol"]) is None
    assert "ranked above dana" in str(may_remove(bob_room, members["dana"]))  # admin vs admin
    assert "owner cannot be removed" in str(may_remove(bob_room, members["alice"]))
    assert may_set_role(bob_room, members["carol"], Role.MODERATOR) is None
    assert "below your own" in str(may_set_role(bob_room, members["carol"], Role.ADMIN))
    assert "your own role" in str(may_set_role(bob_room, members["bob"], Role.MEMBER))
    carol_room = nodes["carol"].find_room("Club")
    assert "needs an admin; you are a member" in str(may_set_role(carol_room, members["dana"], Role.MEMBER))
    # What the checks allow, the validator accepts (and what they refuse, it refuses too).
    bob_room.set_role(members["carol"].key, "moderator")
    with pytest.raises(HubbubError):
        bob_room.set_role(members["carol"].key, "admin")


def test_find_member_by_name_id_or_key_prefix(nodes: dict[str, Node]) -> None:
    room = nodes["alice"].find_room("Club")
    sam1, sam2, cafe = key(), key(), key()
    room.add_member(sam1, "member", "sam")
    room.add_member(sam2, "member", "Sam")
    room.add_member(cafe, "member", "cafe")
    assert find_member(room, "sam").key == sam1  # the exact name first
    with pytest.raises(HubbubError, match="names 2 members"):
        find_member(room, "SAM")
    assert find_member(room, short_id(sam2)).key == sam2
    assert find_member(room, sam2.hex()[:8]).key == sam2
    assert find_member(room, sam2.hex()[:8].upper()).key == sam2
    with pytest.raises(HubbubError, match="Nobody"):
        find_member(room, sam2.hex()[:3])  # too short to be a key prefix
    with pytest.raises(HubbubError, match="Nobody"):
        find_member(room, "erin")
    assert find_member(room, "cafe").key == cafe
