"""One test per class of attack on the room model that used to succeed, each with entries crafted here.

(The model-based test in test_trust_model.py covers random mixtures of them; these pin each one down.)
"""

from __future__ import annotations

import itertools
import random
import secrets

import pytest
from nacl.signing import SigningKey

from crdt.cipher import new_room_key, seal_to_member
from crdt.content import VALID
from crdt.control import ControlOp, key_commitment
from crdt.entry import Entry, decode_one
from crdt.room import KIND_CONTROL, RoomLog
from crdt.schema import CHANNELS, DELETES, MESSAGES, Role, eid
from crdt.sync import SyncProtocol
from tests.helpers import Replica, add_member, control_entry, craft_entry, party, pub, value_entry, visible

NOW = 5_000_000.0


def _fresh(r: Replica, entries: list[Entry], order: random.Random | None = None) -> RoomLog:
    """A new replica of the room fed `entries` (in a shuffled order when `order` is given)."""
    log = RoomLog(r.log.room_id, r.log.keys.as_dict())
    batch = list(entries)
    if order is not None:
        order.shuffle(batch)
        for e in batch:
            log.ingest([e], now_ms=NOW)
    else:
        log.ingest(batch, now_ms=NOW)
    return log


def _all(*replicas: Replica) -> list[Entry]:
    seen: dict[bytes, Entry] = {}
    for r in replicas:
        for chain in r.source.by_author.values():
            for e in chain:
                seen[e.hash] = e
    return list(seen.values())


def _rotation(members: list[bytes]) -> tuple[dict[str, object], bytes]:
    key = new_room_key()
    return {"commit": key_commitment(key).hex(), "keys": {m.hex(): seal_to_member(m, key).hex() for m in members}}, key


# ----- 1. authority judged at the author's claimed causal past -----------------------------------------------------


def test_a_demoted_admin_signing_with_old_deps_gains_nothing() -> None:
    owner, admin, alice = party(["admin", "member"])
    old = owner.log.frontier
    demote = owner.log.write_control(owner.identity, ControlOp(  # type: ignore[arg-type]
        "role", {"member": pub(admin.identity).hex(), "role": "member", "after_seq": owner.log.head(pub(admin.identity))}))
    owner.local(demote)
    newcomer = SigningKey.generate()
    attempts = [
        value_entry(owner.log, admin.identity, CHANNELS, {"id": "coup", "n": "coup", "k": "text", "ts": NOW}, deps=old),  # type: ignore[arg-type]
    ]
    for op, args in (("add", {"member": pub(newcomer).hex(), "role": "member"}),
                     ("remove", {"member": pub(alice.identity).hex()}),  # type: ignore[arg-type]
                     ("role", {"member": pub(alice.identity).hex(), "role": "moderator"})):  # type: ignore[arg-type]
        prev = attempts[-1]
        attempts.append(control_entry(owner.log, admin.identity, op, deps=old, seq=prev.seq + 1, prev=prev.hash, **args))  # type: ignore[arg-type]
    result = owner.log.ingest(attempts, now_ms=NOW)
    assert {e.hash for e in result.accepted} == {e.hash for e in attempts}  # held, so every replica agrees...
    assert {e.hash for e, _ in result.void} == {e.hash for e in attempts}  # ...and all of it is void
    state = owner.log.state()
    assert pub(newcomer) not in state.members and state.role_of(pub(alice.identity)) == Role.MEMBER  # type: ignore[arg-type]
    assert "coup" not in [c.id for c in owner.log.view().channels()]


def test_a_demoted_moderator_cannot_delete_with_old_deps() -> None:
    owner, mod, alice = party(["moderator", "member"])
    target = alice.post("keep me", ts=NOW)
    owner.ingest(alice.source.by_author[pub(alice.identity)])  # type: ignore[arg-type]
    old = owner.log.frontier
    owner.local(owner.log.write_control(owner.identity, ControlOp(  # type: ignore[arg-type]
        "role", {"member": pub(mod.identity).hex(), "role": "member", "after_seq": owner.log.head(pub(mod.identity))})))  # type: ignore[arg-type]
    delete = value_entry(owner.log, mod.identity, DELETES, {"m": target, "c": "general", "ots": NOW, "ts": NOW},  # type: ignore[arg-type]
                         delete=[target], deps=old)
    result = owner.log.ingest([delete], now_ms=NOW)
    assert [e.hash for e, _ in result.void] == [delete.hash]
    assert owner.log.view().message(target).text == "keep me"  # type: ignore[union-attr]


def test_an_expired_invite_cannot_be_redeemed_by_back_dating() -> None:
    owner, alice = party(["member"])
    t0 = int(NOW)
    owner.local(owner.log.write_control(owner.identity, ControlOp(  # type: ignore[arg-type]
        "invite", {"id": "invite-1234", "key": secrets.token_bytes(32).hex(), "expires_ms": t0 + 1000, "ts": t0})))
    owner.local(owner.log.write_control(owner.identity, ControlOp("name", {"name": "later", "ts": t0 + 60_000})))  # type: ignore[arg-type]
    alice.ingest(_all(owner))
    joiner = SigningKey.generate()
    args = {"member": pub(joiner).hex(), "role": "member", "invite": "invite-1234"}
    backdated = control_entry(alice.log, alice.identity, "add", ts=t0 + 500, **args)  # type: ignore[arg-type]
    result = alice.log.ingest([backdated], now_ms=NOW + 60_000)
    assert result.rejected and "earlier than the control entries it names" in result.rejected[0][1]
    honest = control_entry(alice.log, alice.identity, "add", ts=t0 + 60_000, **args)  # type: ignore[arg-type]
    result = alice.log.ingest([honest], now_ms=NOW + 60_000)
    assert [why for _, why in result.void] == ["invite had expired"]
    assert pub(joiner) not in alice.log.state().members


# ----- 2. races: the outcome is one, whatever the delivery order -----------------------------------------------------


def _race_removal_while_acting() -> tuple[list[Entry], Replica]:
    owner, admin, alice, bob = party(["admin", "member", "member"])
    # The owner removes the admin while the admin, not having seen it, adds someone, who posts, and removes bob.
    rot, _ = _rotation([m for m in owner.log.state().active_members() if m != pub(admin.identity)])  # type: ignore[arg-type]
    owner.local(owner.log.write_control(owner.identity, ControlOp("remove", {  # type: ignore[arg-type]
        "member": pub(admin.identity).hex(), "after_seq": owner.log.head(pub(admin.identity)), "rotate": rot})))  # type: ignore[arg-type]
    newcomer = SigningKey.generate()
    admin.local(admin.log.write_control(admin.identity, ControlOp("add", {"member": pub(newcomer).hex(), "role": "member"})))  # type: ignore[arg-type]
    joined = Replica("n", RoomLog(admin.log.room_id, admin.log.keys.as_dict(), newcomer), newcomer)
    joined.ingest(_all(admin))
    joined.post("hello from the newcomer", ts=NOW)
    admin.local(admin.log.write_control(admin.identity, ControlOp("remove", {  # type: ignore[arg-type]
        "member": pub(bob.identity).hex(), "after_seq": admin.log.head(pub(bob.identity))})))  # type: ignore[arg-type]
    admin.post("admin was here", ts=NOW)
    return _all(owner, admin, joined), owner


def _race_two_admins_remove() -> tuple[list[Entry], Replica]:
    owner, a1, a2, m1, m2 = party(["admin", "admin", "member", "member"])
    for admin, victim in ((a1, m1), (a2, m2)):
        rot, _ = _rotation([m for m in admin.log.state().active_members() if m != pub(victim.identity)])  # type: ignore[arg-type]
        admin.local(admin.log.write_control(admin.identity, ControlOp("remove", {  # type: ignore[arg-type]
            "member": pub(victim.identity).hex(), "after_seq": admin.log.head(pub(victim.identity)), "rotate": rot})))  # type: ignore[arg-type]
        victim.post(f"{victim.name} still talking", ts=NOW)
    return _all(owner, a1, a2, m1, m2), owner


def _race_demotion_while_demoting() -> tuple[list[Entry], Replica]:
    owner, admin, mod = party(["admin", "moderator"])
    owner.local(owner.log.write_control(owner.identity, ControlOp("role", {  # type: ignore[arg-type]
        "member": pub(admin.identity).hex(), "role": "member", "after_seq": owner.log.head(pub(admin.identity))})))  # type: ignore[arg-type]
    admin.local(admin.log.write_control(admin.identity, ControlOp("role", {  # type: ignore[arg-type]
        "member": pub(mod.identity).hex(), "role": "member", "after_seq": admin.log.head(pub(mod.identity))})))  # type: ignore[arg-type]
    admin.write(CHANNELS, {"id": "mine", "n": "mine", "k": "text", "ts": NOW})
    return _all(owner, admin, mod), owner


@pytest.mark.parametrize("race", [_race_removal_while_acting, _race_two_admins_remove, _race_demotion_while_demoting])
def test_races_end_in_one_outcome_in_every_delivery_order(race) -> None:
    entries, r = race()
    outcomes = set()
    for seed in range(150):
        log = _fresh(r, entries, random.Random(seed))
        state = log.state()
        outcomes.add((tuple(visible(log, ["general"])), tuple(sorted((k, m.role) for k, m in state.members.items())),
                      frozenset(log.resolution.effective), log.current_context()))
    assert len(outcomes) == 1, f"{len(outcomes)} different outcomes over 150 delivery orders"


def test_an_admin_removed_while_adding_someone_adds_nobody() -> None:
    entries, r = _race_removal_while_acting()
    log = _fresh(r, entries)
    texts = [m.text for m in log.view().history("general")]
    assert "hello from the newcomer" not in texts and "admin was here" not in texts
    assert len(log.state().members) == 3  # the owner, alice and bob: the admin's removal of bob is void too


# ----- 3. a removed member keeps reading ------------------------------------------------------------------------------


def test_two_concurrent_removals_merge_into_a_key_neither_removed_member_has() -> None:
    entries, owner = _race_two_admins_remove()
    log = _fresh(owner, entries)
    ctx = log.current_context()
    assert len(ctx) == 2, "the two rotations were not merged"
    members = list(log.state().members)
    for node in log.graph.rotations:
        if node.op.rotation is not None:
            removed = node.op.target
            assert removed not in node.op.rotation.sealed
            assert removed not in members
    # Each removed member holds the key of the other's removal only: never the key a later entry uses.
    sealed_sets = [set(log.graph.nodes[r].op.rotation.sealed) for r in ctx]  # type: ignore[union-attr]
    for removed in {log.graph.nodes[r].op.target for r in ctx}:
        assert not all(removed in s for s in sealed_sets)


# ----- 4. a single-use invite admits two people at once ---------------------------------------------------------------


def test_of_two_concurrent_redemptions_exactly_one_wins_and_the_key_must_rotate() -> None:
    owner, alice, bob = party(["member", "member"])
    owner.local(owner.log.write_control(owner.identity, ControlOp(  # type: ignore[arg-type]
        "invite", {"id": "single-use-1", "key": secrets.token_bytes(32).hex(), "expires_ms": None})))
    alice.ingest(_all(owner))
    bob.ingest(_all(owner))
    joiners = []
    for admitter in (alice, bob):  # they cannot see each other
        j = SigningKey.generate()
        admitter.local(admitter.log.write_control(admitter.identity, ControlOp(  # type: ignore[arg-type]
            "add", {"member": pub(j).hex(), "role": "member", "invite": "single-use-1"})))
        joiners.append(j)
    entries = _all(owner, alice, bob)
    winners = set()
    for seed in range(40):
        log = _fresh(owner, entries, random.Random(seed))
        admitted = [j for j in joiners if pub(j) in log.state().members]
        assert len(admitted) == 1
        winners.add(pub(admitted[0]))
        assert log.rekey_reasons(), "the loser holds the keys: the room must rotate"
    assert len(winners) == 1
    owner.ingest(entries)
    loser = next(j for j in joiners if pub(j) not in winners)
    rot, _ = _rotation(owner.log.state().active_members())
    owner.local(owner.log.write_control(owner.identity, ControlOp(  # type: ignore[arg-type]
        "rekey", {"rotate": rot, "for": [h.hex() for h in owner.log.rekey_reasons()]})))
    assert owner.log.rekey_reasons() == []
    assert pub(loser) not in owner.log.graph.nodes[owner.log.current_context().__iter__().__next__()].op.rotation.sealed  # type: ignore[union-attr]


# ----- 5. equivocation across replicas ----------------------------------------------------------------------------------


def test_an_admin_equivocating_on_control_is_caught_at_the_first_meeting_and_handled_alike() -> None:
    owner, admin, alice, bob = party(["admin", "member", "member"])
    a_key, b_key = pub(alice.identity), pub(bob.identity)  # type: ignore[arg-type]
    one = control_entry(admin.log, admin.identity, "role", member=a_key.hex(), role="moderator")  # type: ignore[arg-type]
    two = control_entry(admin.log, admin.identity, "role", member=b_key.hex(), role="moderator")  # type: ignore[arg-type]
    assert one.seq == two.seq and one.hash != two.hash
    alice.ingest([one])
    bob.ingest([two])
    assert alice.log.state().role_of(a_key) == Role.MODERATOR and bob.log.state().role_of(b_key) == Role.MODERATOR
    pa, pb = SyncProtocol(alice.source), SyncProtocol(bob.source)
    pa.open()
    pb.open()
    for _ in range(4):  # heads, then the WANT for the differing entry, then the entry: the proof
        for src, dst, replica in ((pa, pb, bob), (pb, pa, alice)):
            for frame in src.data_to_send():
                event = dst.receive(frame)
                entries = getattr(event, "entries", None)
                if entries:
                    replica.ingest(entries)
    for r in (alice, bob):
        assert pub(admin.identity) in r.log.forks  # type: ignore[arg-type]
        assert r.log.state().role_of(a_key) == Role.MEMBER and r.log.state().role_of(b_key) == Role.MEMBER
    assert alice.log.resolution.effective == bob.log.resolution.effective


def test_what_an_equivocator_signed_past_its_fork_is_placed_whenever_the_fork_is_found() -> None:
    """The admin forks at seq s and goes on from one branch with a control entry that a member then names in
    its deps. A replica that linked the other branch first holds that control entry waiting for its
    predecessor, which never links: when the fork is found it must still be placed (void, as everything past
    the fork), whatever the order, so that the member's entry is placed too and every replica agrees."""
    owner, admin, alice = party(["admin", "member"])
    a_key = pub(alice.identity)  # type: ignore[arg-type]
    one = control_entry(admin.log, admin.identity, "name", name="one")  # type: ignore[arg-type]
    two = control_entry(admin.log, admin.identity, "name", name="two")  # type: ignore[arg-type]
    assert one.seq == two.seq and one.hash != two.hash
    admin.ingest([one])
    after = control_entry(admin.log, admin.identity, "role", member=a_key.hex(), role="moderator")  # type: ignore[arg-type]
    admin.ingest([after])
    alice.ingest([one, after])
    named = control_entry(alice.log, alice.identity, "name", name="alice's")  # type: ignore[arg-type]
    assert after.hash in named.deps
    alice.ingest([named])
    base = [e for e in _all(owner, admin, alice) if e.hash not in {one.hash, two.hash, after.hash, named.hash}]
    orders = [[base, [one, two, after, named]], [base, [two], [after, named], [one]], [base, [two, named], [after], [one]],
              [base, [after], [two], [named], [one]]]
    results = []
    for batches in orders:
        log = RoomLog(owner.log.room_id, owner.log.keys.as_dict())
        for batch in batches:
            log.ingest(batch, now_ms=NOW)
        assert pub(admin.identity) in log.forks  # type: ignore[arg-type]
        assert after.hash in log.graph and named.hash in log.graph, "an entry past the fork was never placed"
        results.append((log.resolution.effective, set(log.graph.nodes), len(log.pending)))
    assert all(r == results[0] for r in results[1:])


# ----- 6. canonical encodings, and repair --------------------------------------------------------------------------------


def test_a_control_operation_that_is_not_canonical_json_is_rejected() -> None:
    owner, alice = party(["member"])
    body = b'{"name": "spaced", "op": "name", "ts": 0}'
    e = craft_entry(owner.log, alice.identity, KIND_CONTROL, body)  # type: ignore[arg-type]
    result = owner.log.ingest([e], now_ms=NOW)
    assert result.rejected and "canonical" in result.rejected[0][1]


def test_a_payload_one_relay_corrupted_is_repaired_by_asking_for_it_again() -> None:
    owner, alice = party(["member"])
    mid = alice.post("intact", ts=NOW)
    e = alice.source.by_author[pub(alice.identity)][-1]  # type: ignore[arg-type]
    raw = bytearray(e.encode())
    raw[-3] ^= 1
    owner.ingest([decode_one(bytes(raw))])
    assert mid not in owner.log.maps[MESSAGES] and (e.author, e.seq) in owner.log.tampered
    owner.ingest([e])  # what a WANT for the tampered entry brings back from an honest peer
    assert owner.log.maps[MESSAGES][mid]["t"] == "intact"
    assert (e.author, e.seq) not in owner.log.tampered


# ----- 7. resources ------------------------------------------------------------------------------------------------------


def test_forged_pending_entries_are_signature_checked_before_they_are_held() -> None:
    owner, alice = party(["member"])
    junk = []
    for i in range(1000):
        e = value_entry(owner.log, alice.identity, MESSAGES, {"c": "general", "t": "x" * 2000, "ts": NOW},  # type: ignore[arg-type]
                        seq=owner.log.head(pub(alice.identity)) + 5 + i)  # type: ignore[arg-type]
        junk.append(Entry(e.room_id, e.author, e.seq, e.prev, e.epoch, e.deps, e.nonce, e.payload_hash, bytes(64), e.ciphertext))
    result = owner.log.ingest(junk, origin="mallory", now_ms=NOW)
    assert len(owner.log.pending) == 0 and owner.log.pending.bytes == 0
    assert len(result.rejected) == 1000


def test_validly_signed_pending_entries_are_capped_per_origin_and_expire_against_it() -> None:
    owner, alice = party(["member"])
    owner.log.pending.origin_cap = 200_000
    flood = [value_entry(owner.log, alice.identity, MESSAGES, {"c": "general", "t": "y" * 4000, "ts": NOW},  # type: ignore[arg-type]
                         seq=owner.log.head(pub(alice.identity)) + 3 + i) for i in range(200)]  # type: ignore[arg-type]
    result = owner.log.ingest(flood, origin="mallory", now_ms=NOW)
    assert owner.log.pending.origin_bytes("mallory") <= 200_000 and result.dropped
    assert all(o == "mallory" for _, o in owner.log.expire_pending(NOW + 10 * 60_000))
    assert len(owner.log.pending) == 0


# ----- 9. removing a member who never posted ------------------------------------------------------------------------------


def test_a_member_who_never_posted_can_be_removed() -> None:
    owner, = party([])
    silent = SigningKey.generate()
    owner.local(add_member(owner.log, owner.identity, silent))  # type: ignore[arg-type]
    rot, _ = _rotation([m for m in owner.log.state().active_members() if m != pub(silent)])
    owner.local(owner.log.write_control(owner.identity, ControlOp(  # type: ignore[arg-type]
        "remove", {"member": pub(silent).hex(), "after_seq": owner.log.head(pub(silent)), "rotate": rot})))
    assert owner.log.head(pub(silent)) == -1 and pub(silent) not in owner.log.state().members


def test_pending_work_does_not_grow_with_the_pending_set() -> None:
    """A post while 20k validly signed entries wait costs no look at them: they are indexed by what they wait for."""
    owner, alice = party(["member"])
    for i in itertools.islice(itertools.count(), 0, 20_000, 200):
        batch = [value_entry(owner.log, alice.identity, MESSAGES, {"c": "general", "t": "z", "ts": NOW},  # type: ignore[arg-type]
                             seq=owner.log.head(pub(alice.identity)) + 10 + i + k) for k in range(200)]  # type: ignore[arg-type]
        owner.log.ingest(batch, origin="flood", now_ms=NOW)
    held = len(owner.log.pending)
    assert held > 1000
    woken = []
    real = owner.log.pending.wake
    owner.log.pending.wake = lambda key: woken.append(key) or real(key)  # type: ignore[method-assign]
    owner.post("an honest post", ts=NOW)
    assert len(owner.log.pending) == held and len(woken) <= 3
    assert eid(pub(owner.identity), owner.log.head(pub(owner.identity))) in owner.log.maps[MESSAGES]  # type: ignore[arg-type]
    assert owner.log.is_valid(pub(owner.identity), owner.log.head(pub(owner.identity)))  # type: ignore[arg-type]
    assert owner.log.flags_of(pub(owner.identity), owner.log.head(pub(owner.identity))) & VALID  # type: ignore[arg-type,operator]
