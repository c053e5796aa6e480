"""Validation of hand-crafted entries: every rule refuses with a reason, applies nothing, and leaves honest writes working.

An entry can be refused two ways. *Rejected*: it is broken (signature, chain, encryption, shape) and
is not kept. *Void*: it is well formed but its author lacked the authority for it; it is kept (what is
valid depends on the whole set of entries, so a later entry could change it) but changes nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

import pytest
from nacl.signing import SigningKey

from crdt.control import ControlOp
from crdt.entry import NONCE_SIZE, decode_one
from crdt.room import RoomLog
from crdt.schema import CHANNELS, DELETES, EDITS, MESSAGES, PINS, REACTIONS, SETTINGS, Role, client_id, eid
from crdt.view import RoomView
from tests.helpers import (
    add_member,
    control_entry,
    craft_entry,
    delete_entry,
    doc_state,
    new_room,
    post,
    pub,
    short,
    value_entry,
)


@dataclass
class World:
    log: RoomLog
    owner: SigningKey
    admin: SigningKey
    mod: SigningKey
    alice: SigningKey
    bob: SigningKey
    outsider: SigningKey
    msg_a: str  # alice's message
    msg_b: str  # bob's message
    channel: str  # the admin's channel item


@pytest.fixture
def world() -> World:
    owner, admin, mod, alice, bob, outsider = (SigningKey.generate() for _ in range(6))
    log, _, _ = new_room(owner)
    add_member(log, owner, admin, "admin")
    add_member(log, owner, mod, "moderator")
    add_member(log, owner, alice)
    add_member(log, owner, bob)
    msg_a = post(log, alice, "alice says hi")
    msg_b = post(log, bob, "bob says hi")
    channel, _ = log.write_value(admin, CHANNELS, {"id": "random", "n": "random", "k": "text"})
    return World(log, owner, admin, mod, alice, bob, outsider, msg_a, msg_b, channel)


def _snapshot(log: RoomLog, heads: bool = True) -> tuple[object, ...]:
    state = log.state()
    return (doc_state(log.doc), log.doc.get_update(), log.heads() if heads else None, dict(state.members),
            log.epoch(), set(log.frontier), log.resolution.effective)


def assert_rejected(log: RoomLog, entry, reason_part: str) -> str:
    """Ingest `entry`; it must be refused (rejected, or held void) with a reason matching the regex
    `reason_part`, and change nothing a member can see, nor any authority."""
    before = _snapshot(log, heads=False)
    heads = log.heads()
    result = log.ingest([entry])
    reasons = [reason for e, reason in result.rejected if e.hash == entry.hash]
    void = [reason for e, reason in result.void if e.hash == entry.hash]
    assert reasons or void, f"entry was neither rejected nor void (pending: {len(log.pending)})"
    if reasons:
        assert result.accepted == [] and log.heads() == heads, "a rejected entry was kept"
    else:
        assert not log.is_valid(entry.author, entry.seq)
    reason = (reasons or void)[0]
    assert re.search(reason_part, reason), reason
    assert _snapshot(log, heads=False) == before, "a refused entry changed the room"
    return reason


def assert_accepted(log: RoomLog, entry) -> None:
    result = log.ingest([entry])
    assert result.rejected == [] and result.void == [], (result.rejected, result.void)
    assert [e.hash for e in result.accepted] == [entry.hash]
    assert log.is_valid(entry.author, entry.seq) or log.flags_of(entry.author, entry.seq) is not None


# ----- membership --------------------------------------------------------------------------------


def test_non_member_message_is_rejected(world: World) -> None:
    e = value_entry(world.log, world.outsider, MESSAGES, {"c": "general", "t": "spam", "ts": 5.0})
    assert_rejected(world.log, e, "not a member")
    assert eid(pub(world.outsider), 0) not in world.log.maps[MESSAGES]


def test_non_member_cannot_add_itself(world: World) -> None:
    e = control_entry(world.log, world.outsider, "add", member=pub(world.outsider).hex(), role="admin")
    assert_rejected(world.log, e, "not a member")
    assert world.log.state().role_of(pub(world.outsider)) is None


def test_removed_member_is_rejected_after_removal(world: World) -> None:
    log = world.log
    log.write_control(world.owner, ControlOp("remove", {"member": pub(world.bob).hex(), "after_seq": log.head(pub(world.bob))}))
    e = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "still here?", "ts": 6.0})
    assert_rejected(log, e, "not a member|removed")
    # alice is unaffected
    assert_accepted(log, value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "still here", "ts": 6.0}))


# ----- touching other members' messages ---------------------------------------------------------------


TARGETED = [
    (EDITS, lambda target: {"m": target, "t": "rewritten", "ts": 9.0}),
    (DELETES, lambda target: {"m": target, "c": "general", "ots": 1000.0, "ts": 9.0}),
    (PINS, lambda target: {"m": target, "ts": 9.0}),
]


@pytest.mark.parametrize("root,value", TARGETED, ids=["edit", "delete", "pin"])
def test_member_cannot_touch_anothers_message(world: World, root: str, value) -> None:
    delete = [world.msg_a] if root == DELETES else []
    e = value_entry(world.log, world.bob, root, value(world.msg_a), delete=delete)
    reason = assert_rejected(world.log, e, "moderator")
    assert "role" in reason
    assert world.log.maps[MESSAGES][world.msg_a]["t"] == "alice says hi"
    # The void attempt is kept (it holds its sequence number); bob's next, honest write applies.
    honest = value_entry(world.log, world.bob, root, value(world.msg_b), delete=[world.msg_b] if root == DELETES else [])
    assert honest.seq == e.seq + 1
    assert_accepted(world.log, honest)


@pytest.mark.parametrize("root,value", TARGETED, ids=["edit", "delete", "pin"])
@pytest.mark.parametrize("who", ["mod", "admin", "owner"])
def test_moderator_or_higher_may_touch_anothers_message(world: World, root: str, value, who: str) -> None:
    actor = getattr(world, who)
    delete = [world.msg_a] if root == DELETES else []
    e = value_entry(world.log, actor, root, value(world.msg_a), delete=delete)
    assert_accepted(world.log, e)
    view = world.log.view()
    msg = view.message(world.msg_a)
    assert msg is not None
    if root == EDITS:
        assert msg.text == "rewritten" and msg.edited
    elif root == DELETES:
        assert msg.deleted and msg.text == "" and world.msg_a not in world.log.maps[MESSAGES]
    else:
        assert msg.pinned


def test_member_cannot_yjs_delete_anothers_message(world: World) -> None:
    e = delete_entry(world.log, world.bob, [world.msg_a])
    assert_rejected(world.log, e, "needs the moderator role")
    assert world.msg_a in world.log.maps[MESSAGES]
    # deleting his own message is fine
    assert_accepted(world.log, delete_entry(world.log, world.bob, [world.msg_b]))
    assert world.msg_b not in world.log.maps[MESSAGES]


def test_member_cannot_remove_anothers_reaction(world: World) -> None:
    reaction, _ = world.log.write_value(world.alice, REACTIONS, {"m": world.msg_b, "e": "👍"})
    e = delete_entry(world.log, world.bob, [reaction])
    assert_rejected(world.log, e, "moderator")
    assert reaction in world.log.maps[REACTIONS]
    assert_accepted(world.log, delete_entry(world.log, world.alice, [reaction]))
    assert reaction not in world.log.maps[REACTIONS]


def test_member_may_edit_delete_pin_own_message(world: World) -> None:
    log = world.log
    assert_accepted(log, value_entry(log, world.alice, EDITS, {"m": world.msg_a, "t": "fixed", "ts": 2000.0}))
    assert_accepted(log, value_entry(log, world.alice, PINS, {"m": world.msg_a, "ts": 2001.0}))
    assert log.view().message(world.msg_a).pinned
    assert_accepted(log, value_entry(log, world.alice, DELETES, {"m": world.msg_a, "c": "general", "ots": 1000.0, "ts": 2002.0},
                                     delete=[world.msg_a]))
    assert log.view().message(world.msg_a).deleted


# ----- admin-only state -----------------------------------------------------------------------------------


ADMIN_VALUES = [
    (CHANNELS, {"id": "secret", "n": "secret", "k": "text"}),
    (CHANNELS, {"id": "random", "n": "renamed", "ts": 3.0}),
    (SETTINGS, {"n": "taken over", "pub": True}),
]


@pytest.mark.parametrize("root,value", ADMIN_VALUES, ids=["new-channel", "rename-channel", "settings"])
@pytest.mark.parametrize("who", ["alice", "mod"])
def test_non_admin_cannot_change_channels_or_settings(world: World, root: str, value: dict, who: str) -> None:
    e = value_entry(world.log, getattr(world, who), root, value)
    assert_rejected(world.log, e, "needs the admin role")
    assert world.log.view().settings() == {}
    assert [c.name for c in world.log.view().channels()] == ["random"]


@pytest.mark.parametrize("root,value", ADMIN_VALUES, ids=["new-channel", "rename-channel", "settings"])
def test_admin_may_change_channels_and_settings(world: World, root: str, value: dict) -> None:
    assert_accepted(world.log, value_entry(world.log, world.admin, root, value))


def test_non_admin_cannot_delete_a_channel_item(world: World) -> None:
    e = delete_entry(world.log, world.mod, [world.channel])
    assert_rejected(world.log, e, "needs the admin role")
    assert world.channel in world.log.maps[CHANNELS]


@pytest.mark.parametrize("who", ["alice", "mod"])
def test_non_admin_cannot_change_roles(world: World, who: str) -> None:
    e = control_entry(world.log, getattr(world, who), "role", member=pub(world.bob).hex(), role="moderator")
    assert_rejected(world.log, e, "role change")
    assert world.log.state().role_of(pub(world.bob)) == Role.MEMBER


def test_non_admin_cannot_add_members_without_invite(world: World) -> None:
    newcomer = SigningKey.generate()
    e = control_entry(world.log, world.alice, "add", member=pub(newcomer).hex(), role="member")
    assert_rejected(world.log, e, "only an admin")
    assert world.log.state().role_of(pub(newcomer)) is None


def test_admin_may_change_roles_and_it_takes_effect(world: World) -> None:
    log = world.log
    assert_accepted(log, control_entry(log, world.admin, "role", member=pub(world.bob).hex(), role="moderator"))
    assert log.state().role_of(pub(world.bob)) == Role.MODERATOR
    # bob's later entries name the promotion in their deps, so he may now edit alice's message
    assert_accepted(log, value_entry(log, world.bob, EDITS, {"m": world.msg_a, "t": "moderated", "ts": 9.0}))
    # an admin cannot raise someone to its own rank
    assert_rejected(log, control_entry(log, world.admin, "role", member=pub(world.alice).hex(), role="admin"), "higher role")


def test_permission_is_judged_at_the_entrys_causal_past(world: World) -> None:
    """An entry whose deps predate a promotion is judged by the state at its deps, not the newest state."""
    log = world.log
    old_deps = tuple(sorted(log.frontier))
    assert_accepted(log, control_entry(log, world.admin, "role", member=pub(world.bob).hex(), role="moderator"))
    e = value_entry(log, world.bob, EDITS, {"m": world.msg_a, "t": "sneaky", "ts": 9.0}, deps=old_deps)
    assert_rejected(log, e, "moderator")


# ----- Yjs ids and keys ----------------------------------------------------------------------------------------


def test_update_with_anothers_client_id_is_rejected(world: World) -> None:
    seq = world.log.head(pub(world.alice)) + 1
    foreign = client_id(short(world.bob), world.log.head(pub(world.bob)) + 1)
    e = value_entry(world.log, world.alice, MESSAGES, {"c": "general", "t": "as bob", "ts": 5.0}, client=foreign)
    assert e.seq == seq
    assert_rejected(world.log, e, "client id the author does not own")


@pytest.mark.parametrize("delta", [1, -1])
def test_update_with_own_client_id_of_another_seq_is_rejected(world: World, delta: int) -> None:
    seq = world.log.head(pub(world.alice)) + 1
    e = value_entry(world.log, world.alice, MESSAGES, {"c": "general", "t": "x", "ts": 5.0},
                    client=client_id(short(world.alice), seq + delta))
    assert_rejected(world.log, e, "client id the author does not own")


@pytest.mark.parametrize("which", ["other-seq", "other-author", "free-form"])
def test_update_under_a_key_not_derived_from_its_entry_is_rejected(world: World, which: str) -> None:
    seq = world.log.head(pub(world.alice)) + 1
    key = {"other-seq": eid(pub(world.alice), seq + 1), "other-author": world.msg_b, "free-form": "hello"}[which]
    e = value_entry(world.log, world.alice, MESSAGES, {"c": "general", "t": "overwrite", "ts": 5.0}, key=key)
    assert_rejected(world.log, e, "key that is not its own")
    assert world.log.maps[MESSAGES][world.msg_b]["t"] == "bob says hi"


def test_update_inserting_two_values_is_rejected(world: World) -> None:
    from pycrdt import Doc, Map

    seq = world.log.head(pub(world.alice)) + 1
    doc = Doc(client_id=client_id(short(world.alice), seq))
    m = doc.get(MESSAGES, type=Map)
    with doc.transaction():
        m[eid(pub(world.alice), seq)] = {"c": "general", "t": "one", "ts": 1.0}
        m["extra"] = {"c": "general", "t": "two", "ts": 1.0}
    e = craft_entry(world.log, world.alice, 0, doc.get_update())
    assert_rejected(world.log, e, "one value")


# ----- tampering ----------------------------------------------------------------------------------------------------


def _flip(raw: bytes, index: int) -> bytes:
    out = bytearray(raw)
    out[index] ^= 0x01
    return bytes(out)


@pytest.mark.parametrize("part", ["nonce", "payload_hash", "signature", "prev"])
def test_flipped_header_or_signature_byte_fails_the_signature(world: World, part: str) -> None:
    log = world.log
    e = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "genuine", "ts": 5.0})
    header = e.header()
    index = {
        "nonce": len(header) - 32 - NONCE_SIZE + NONCE_SIZE // 2,
        "payload_hash": len(header) - 32 + 7,
        "signature": len(header) + 10,
        "prev": header.index(e.prev) + 3,
    }[part]
    raw = e.encode()
    tampered = decode_one(_flip(raw, index))
    assert tampered != e
    if part == "payload_hash":
        reason = assert_rejected(log, tampered, "")
        assert "signature" in reason or "tampered" in reason
    elif part == "prev":
        # A broken chain link cannot be placed; it must not be accepted nor applied.
        before = _snapshot(log)
        result = log.ingest([tampered])
        assert result.accepted == [] and _snapshot(log) == before
    else:
        assert_rejected(log, tampered, "signature does not verify")
    assert_accepted(log, e)
    assert log.maps[MESSAGES][eid(pub(world.alice), e.seq)]["t"] == "genuine"


def test_flipped_ciphertext_byte_is_a_payload_hash_mismatch(world: World) -> None:
    log = world.log
    e = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "genuine", "ts": 5.0})
    raw = e.encode()
    tampered = decode_one(_flip(raw, len(raw) - 5))
    assert tampered.ciphertext != e.ciphertext
    before = doc_state(log.doc)
    result = log.ingest([tampered])
    reasons = [r for x, r in result.rejected if x.seq == e.seq]
    assert reasons and "does not match its signed hash" in reasons[0]
    assert doc_state(log.doc) == before, "tampered content was applied"
    assert eid(pub(world.alice), e.seq) not in log.maps[MESSAGES]


def test_genuine_entry_still_applies_after_a_tampered_copy(world: World) -> None:
    log = world.log
    e = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "genuine", "ts": 5.0})
    raw = e.encode()
    log.ingest([decode_one(_flip(raw, len(raw) - 5))])
    log.ingest([e])
    assert log.maps[MESSAGES].get(eid(pub(world.alice), e.seq), {}).get("t") == "genuine"


def test_entry_encrypted_with_the_wrong_key_is_rejected(world: World) -> None:
    e = value_entry(world.log, world.alice, MESSAGES, {"c": "general", "t": "x", "ts": 5.0}, room_key=bytes(32))
    assert_rejected(world.log, e, "does not decrypt")


# ----- replays ----------------------------------------------------------------------------------------------------


def test_same_entry_twice_is_a_duplicate_and_applies_once(world: World) -> None:
    log = world.log
    e = value_entry(log, world.bob, REACTIONS, {"m": world.msg_a, "e": "🎉"})
    assert_accepted(log, e)
    before = _snapshot(log)
    count = log.entry_count
    for batch in ([e], [e, e]):
        result = log.ingest(batch)
        assert result.accepted == [] and result.duplicates == len(batch)
    assert _snapshot(log) == before and log.entry_count == count
    assert log.view().message(world.msg_a).reactions == {"🎉": [short(world.bob)]}


def test_duplicate_within_one_batch_applies_once(world: World) -> None:
    log = world.log
    e = value_entry(log, world.bob, REACTIONS, {"m": world.msg_a, "e": "🎉"})
    result = log.ingest([e, e])
    assert [x.hash for x in result.accepted] == [e.hash]
    assert log.head(pub(world.bob)) == e.seq


def test_entry_from_another_room_is_rejected(world: World) -> None:
    other, _, _ = new_room(world.alice, "elsewhere")
    foreign = value_entry(other, world.alice, MESSAGES, {"c": "general", "t": "wrong room", "ts": 5.0})
    assert_accepted(other, foreign)  # valid where it belongs
    assert_rejected(world.log, foreign, "another room")


def test_entry_relabelled_for_another_room_does_not_decrypt(world: World) -> None:
    other, _, other_key = new_room(world.alice, "elsewhere")
    e = value_entry(other, world.alice, MESSAGES, {"c": "general", "t": "moved", "ts": 5.0},
                    room_id=world.log.room_id, deps=tuple(sorted(world.log.frontier)), epoch=world.log.epoch(),
                    room_key=other_key, seq=world.log.head(pub(world.alice)) + 1, prev=world.log.chains[pub(world.alice)][-1])
    assert_rejected(world.log, e, "does not decrypt")


def test_foreign_genesis_is_rejected(world: World) -> None:
    _, genesis, _ = new_room(world.outsider, "other")
    result = world.log.ingest([genesis])
    assert result.accepted == [] and world.log.head(pub(world.outsider)) == -1


# ----- equivocation ---------------------------------------------------------------------------------------------


def test_equivocation_is_rejected_and_recorded(world: World) -> None:
    log = world.log
    first = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "version one", "ts": 5.0})
    second = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "version two", "ts": 5.0})
    assert first.seq == second.seq and first.hash != second.hash
    assert first.signature_valid() and second.signature_valid()
    assert_accepted(log, first)
    before = doc_state(log.doc)
    result = log.ingest([second])
    assert result.accepted == []
    assert [(r, "equivocated" in why) for r, why in result.rejected] == [(second, True)]
    assert len(result.equivocations) == 1
    proof = result.equivocations[0]
    assert (proof.author, proof.seq, proof.first_hash, proof.second) == (pub(world.alice), first.seq, first.hash, second)
    # From the forked sequence number on, the equivocator holds nothing: the first version is retracted too.
    assert eid(pub(world.alice), first.seq) in before["m"]
    assert eid(pub(world.alice), first.seq) not in doc_state(log.doc)["m"]
    assert log.forks == {pub(world.alice): first.seq}
    # The view stops showing the equivocator's entries from the equivocation on.
    ids = [m.id for m in log.view().history("general")]
    assert world.msg_a in ids and eid(pub(world.alice), first.seq) not in ids


def test_equivocation_in_one_batch_is_recorded(world: World) -> None:
    log = world.log
    first = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "one", "ts": 5.0})
    second = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "two", "ts": 5.0})
    result = log.ingest([first, second])
    assert len(result.equivocations) == 1
    assert pub(world.alice) in log.forks
    assert any("equivocated" in why for _, why in result.rejected)


def test_forged_second_entry_is_not_equivocation(world: World) -> None:
    """A second entry whose signature fails is a forgery by someone else, not proof against the author."""
    log = world.log
    first = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "one", "ts": 5.0})
    assert_accepted(log, first)
    forged = replace(value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "two", "ts": 5.0}, seq=first.seq,
                                 prev=log.chains[pub(world.alice)][first.seq - 1]), signature=bytes(64))
    result = log.ingest([forged])
    assert result.equivocations == [] and pub(world.alice) not in log.forks
    assert result.rejected and "signature" in result.rejected[0][1]


def test_equivocator_is_rejected_from_then_on(world: World) -> None:
    log = world.log
    first = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "one", "ts": 5.0})
    second = value_entry(log, world.alice, MESSAGES, {"c": "general", "t": "two", "ts": 5.0})
    log.ingest([first])
    log.ingest([second])
    assert pub(world.alice) in log.forks
    later = delete_entry(log, world.alice, [world.msg_a])  # chains correctly after `first`
    assert later.seq == first.seq + 1
    before = doc_state(log.doc)
    result = log.ingest([later])
    assert result.accepted == []
    assert doc_state(log.doc) == before


# ----- logging ------------------------------------------------------------------------------------------------------


def test_rejection_reason_is_logged(world: World, caplog: pytest.LogCaptureFixture) -> None:
    e = value_entry(world.log, world.bob, EDITS, {"m": world.msg_a, "t": "x", "ts": 1.0})
    with caplog.at_level(logging.INFO, logger="crdt.room"):
        world.log.ingest([e])
    messages = [r.getMessage() for r in caplog.records if r.name == "crdt.room"]
    assert any("void" in m and "moderator" in m and f"/{e.seq}" in m for m in messages), messages


def _other_room_entry(world: World):
    other, _, _ = new_room(world.alice, "elsewhere")
    return value_entry(other, world.alice, MESSAGES, {"c": "general", "t": "x", "ts": 1.0})


def _tampered_entry(world: World):
    raw = value_entry(world.log, world.alice, MESSAGES, {"c": "general", "t": "x", "ts": 1.0}).encode()
    return decode_one(_flip(raw, len(raw) - 5))


@pytest.mark.parametrize("make", [_other_room_entry, _tampered_entry], ids=["other-room", "tampered-payload"])
def test_early_rejections_are_logged(world: World, caplog: pytest.LogCaptureFixture, make) -> None:
    e = make(world)
    with caplog.at_level(logging.DEBUG):
        result = world.log.ingest([e])
    assert result.rejected
    reason = result.rejected[0][1]
    assert any(reason in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_equivocation_is_logged(world: World, caplog: pytest.LogCaptureFixture) -> None:
    first = value_entry(world.log, world.alice, MESSAGES, {"c": "general", "t": "one", "ts": 5.0})
    second = value_entry(world.log, world.alice, MESSAGES, {"c": "general", "t": "two", "ts": 5.0})
    world.log.ingest([first])
    with caplog.at_level(logging.DEBUG):
        world.log.ingest([second])
    assert any("equivocat" in r.getMessage() for r in caplog.records)


# ----- chains and batches ----------------------------------------------------------------------------------------


def test_gap_in_a_chain_waits_and_applies_once_filled(world: World) -> None:
    log = world.log
    nxt = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "first", "ts": 5.0})
    after = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "second", "ts": 6.0},
                        seq=nxt.seq + 1, prev=nxt.hash)
    before = doc_state(log.doc)
    result = log.ingest([after])
    assert result.accepted == [] and doc_state(log.doc) == before
    assert (pub(world.bob), after.seq) in log.pending
    result = log.ingest([nxt])
    assert [e.hash for e in result.accepted] == [nxt.hash, after.hash]
    assert len(log.pending) == 0


def test_void_entry_in_a_batch_applies_nothing_of_itself_and_does_not_break_its_chain(world: World) -> None:
    log = world.log
    good = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "fine", "ts": 5.0})
    bad = value_entry(log, world.bob, EDITS, {"m": world.msg_a, "t": "hijack", "ts": 6.0}, seq=good.seq + 1, prev=good.hash)
    later = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "later", "ts": 7.0}, seq=bad.seq + 1, prev=bad.hash)
    other = value_entry(log, world.alice, REACTIONS, {"m": world.msg_b, "e": "👍"})
    result = log.ingest([later, bad, other, good])
    assert {e.hash for e in result.accepted} == {good.hash, bad.hash, later.hash, other.hash}
    assert [(e.hash, "moderator" in why) for e, why in result.void] == [(bad.hash, True)]
    assert [e.text for e in log.view().message(world.msg_a).edits] == []
    texts = [m.text for m in log.view().history("general")]
    assert "fine" in texts and "later" in texts


def test_broken_entry_in_a_batch_applies_nothing_of_itself_or_what_chains_to_it(world: World) -> None:
    log = world.log
    good = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "fine", "ts": 5.0})
    bad = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "as alice", "ts": 6.0}, seq=good.seq + 1,
                      prev=good.hash, client=client_id(short(world.alice), 99))
    later = value_entry(log, world.bob, MESSAGES, {"c": "general", "t": "later", "ts": 7.0}, seq=bad.seq + 1, prev=bad.hash)
    result = log.ingest([later, bad, good])
    assert {e.hash for e in result.accepted} == {good.hash}
    reasons = {e.hash: why for e, why in result.rejected}
    assert "client id" in reasons[bad.hash] and "rejected entry" in reasons[later.hash]
    texts = [m.text for m in log.view().history("general")]
    assert "fine" in texts and "later" not in texts and "as alice" not in texts
    assert log.head(pub(world.bob)) == good.seq
