"""Model-based test of the room's central promise: validity is a pure function of the set of entries.

Random histories (tests/trust_sim.py): members with roles posting, editing, deleting, reacting and
pinning; concurrent role changes, removals, self-removals, rekeys and invite races made inside network
partitions; a liar who signs with old `deps`; an equivocator. Everything ever signed is then delivered
to five fresh replicas in random orders, in random partial batches (partitions that heal), with
duplicates. Every replica must end identical, and identical to a from-scratch reference
(tests/trust_oracle.py); nothing valid may lack authority; no removed member may hold the key of
anything written after its removal.
"""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crdt.room import RoomLog
from tests.helpers import doc_state, visible
from tests.trust_oracle import judge
from tests.trust_sim import NOW, Sim

ACTIONS = ["post", "post", "post", "edit", "react", "pin", "delete", "channel", "role", "role", "remove", "remove",
           "leave", "rekey", "invite_race", "invite_race", "lie", "lie", "equivocate", "sync", "sync", "sync",
           "split", "heal", "relays", "forge_relays"]
CHANNELS = ["general", "ch0", "ch1", "ch2"]
EXAMPLES = int(os.environ.get("HUBBUB_TRUST_EXAMPLES", "300"))


def _replica(sim: Sim, rng: random.Random, entries: list) -> RoomLog:
    log = RoomLog(sim.room_id, dict(sim.keys))
    live = log.view()  # a view open all along, as a running node's is
    rest = list(entries) + rng.sample(entries, k=min(len(entries), 5))  # with duplicates
    rng.shuffle(rest)
    while rest:  # partial batches: some replicas see a part of the history long before the rest
        n = rng.randint(1, max(1, len(rest) // 2))
        batch, rest = rest[:n], rest[n:]
        log.ingest(batch, now_ms=NOW)
    log.ingest(list(entries), now_ms=NOW)  # the partitions heal: everything, once more
    assert visible(log, CHANNELS, view=live) == visible(log, CHANNELS), "a live view differs from a fresh one"
    return log


def _fingerprint(log: RoomLog) -> tuple[object, ...]:
    state = log.state()
    valid = {(a, s) for a, chain in log.chains.items() for s in range(len(chain)) if log.is_valid(a, s)}
    return (visible(log, CHANNELS), doc_state(log.doc), {k: (m.role, m.name) for k, m in state.members.items()},
            {i: inv.used_by for i, inv in state.invites.items()}, log.resolution.effective, valid,
            log.current_context(), log.epoch(), state.public, log.view().settings().get("rl"))


def check_history(seed: int, actions: list[tuple[str, int, int]]) -> None:
    rng = random.Random(seed)
    sim = Sim(rng, members=3 + seed % 4)
    for kind, who, pick in actions:
        sim.act(kind, who, pick)
    entries = list(sim.entries.values())
    replicas = [_replica(sim, random.Random(seed * 10 + i), entries) for i in range(5)]
    first = _fingerprint(replicas[0])
    for r in replicas[1:]:
        assert _fingerprint(r) == first, "replicas that hold the same entries disagree"
    # ... and agree with the reference worked out from scratch
    verdict = judge(sim.room_id, entries, sim.keys)
    log = replicas[0]
    assert log.resolution.effective == verdict.effective
    valid = {(a, s) for a, chain in log.chains.items() for s in range(len(chain)) if log.is_valid(a, s)}
    content_valid = {slot for slot in valid if log.flags_of(*slot) is not None and slot in verdict.held}
    assert content_valid == verdict.valid, "a content entry's validity differs from the reference"
    assert {k: m.role for k, m in log.state().members.items()} == {k: m.role for k, m in verdict.state.members.items()}
    _no_key_after_removal(sim, log, verdict)


def _no_key_after_removal(sim: Sim, log: RoomLog, verdict) -> None:
    """A removed member holds no key to anything written after its removal (by anyone who knew of it)."""
    graph = log.graph
    for node in graph.by_idx:
        if node.op.op != "remove" or node.hash not in log.resolution.effective or node.op.target in log.state().members:
            continue
        removed = node.op.target
        known = {r for r, who in sim.sealed_to.items() if removed in who}
        for h, ctx in verdict.contexts.items():
            e = sim.entries.get(h)
            if e is None or not e.deps or e.author == removed or h == node.hash or h in sim.lies:
                continue  # (a liar who writes under a key it knows is stale leaks its own words: nothing stops that)
            if h in graph.nodes and graph.nodes[h].rotation:
                continue  # a rotation is sealed under the key it replaces: it carries only keys sealed to others
            counts = h in log.resolution.effective or (e.author, e.seq) in verdict.valid
            if counts and graph.closure_bits(e.deps) >> node.idx & 1:  # it counts, and was written knowing of the removal
                assert not ctx <= known, "a removed member holds every key of an entry written after its removal"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.integers(0, 1_000_000),
       actions=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 9), st.integers(0, 40)), min_size=10, max_size=45))
def test_hostile_histories_converge_on_every_replica(seed: int, actions: list[tuple[str, int, int]]) -> None:
    check_history(seed, actions)
