"""A from-scratch reference for the trust rules, written plainly (sets, loops, no caches), to check `RoomLog` against.

Given every entry ever made and every key, it works out which control operations are
effective and which content entries are valid, straight from the rules in
docs/architecture.md ("The rule"): nothing incremental, nothing depending on the order
anything arrived in. It reuses only the parts that are not about order or authority:
the decoders, the shape checks of operations and updates, and `apply_op` (the meaning
of one operation given a state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crdt.cipher import open_payload
from crdt.content import UnknownItem, check_content
from crdt.control import ControlOp, ControlState, ParsedOp, apply_op, parse_op
from crdt.entry import NO_HASH, Entry
from crdt.errors import DecodeError, InvalidEntry
from crdt.keyring import merged_key
from crdt.room import KIND_CONTROL
from crdt.schema import ROOTS, Role, client_id, eid, short_id
from crdt.yjs_update import summarize_update


@dataclass
class Node:
    e: Entry
    op: ParsedOp
    past: set[bytes] = field(default_factory=set)  # strict causal past (hashes)


@dataclass
class Verdict:
    effective: set[bytes]
    valid: set[tuple[bytes, int]]       # content entries that count
    held: set[tuple[bytes, int]]        # content entries that are well formed (valid or void)
    state: ControlState
    order: list[bytes]
    contexts: dict[bytes, frozenset[bytes]]  # entry hash -> the rotations its key comes from


def judge(room_id: bytes, entries: list[Entry], keys: dict[bytes, bytes]) -> Verdict:
    by_slot: dict[tuple[bytes, int], set[bytes]] = {}
    by_hash = {e.hash: e for e in entries}
    for e in entries:
        by_slot.setdefault((e.author, e.seq), set()).add(e.hash)
    forks: dict[bytes, int] = {}
    for (author, seq), hashes in by_slot.items():
        if len(hashes) > 1:
            forks[author] = min(forks.get(author, seq), seq)
    nodes: dict[bytes, Node] = {}
    content: list[tuple[Entry, bytes]] = []
    contexts: dict[bytes, frozenset[bytes]] = {}

    def context(deps: tuple[bytes, ...]) -> frozenset[bytes]:
        past: set[bytes] = set()
        for d in deps:
            past |= nodes[d].past | {d}
        rotations = {h for h in past if nodes[h].op.op == "genesis" or nodes[h].op.rotation is not None}
        return frozenset(r for r in rotations if not any(r in nodes[o].past for o in rotations))

    def key_of(ctx: frozenset[bytes]) -> bytes | None:
        if any(r not in keys for r in ctx):
            return None
        return keys[next(iter(ctx))] if len(ctx) == 1 else merged_key((r, keys[r]) for r in ctx)

    def admitted(author: bytes, past: set[bytes]) -> bool:
        return any(nodes[h].op.op in ("add", "genesis") and (nodes[h].op.target or nodes[h].e.author) == author
                   for h in past)

    # Place entries in causal order: each needs its deps placed, its chain predecessor (below a fork),
    # the key of its context, and the authors of the items it deletes.
    chain_ok: dict[tuple[bytes, int], bytes] = {}
    broken: set[bytes] = set()
    owners: dict[int, tuple[bytes, str, str]] = {}
    checks = []
    pending = sorted(entries, key=lambda e: (e.seq, e.hash))
    progress = True
    while progress:
        progress = False
        rest = []
        for e in pending:
            genesis = e.seq == 0 and e.room_id == NO_HASH and not e.deps
            if (genesis and e.hash != room_id) or e.author in broken:
                continue
            if any(d not in nodes for d in e.deps):
                rest.append(e)
                continue
            on_chain = e.seq < forks.get(e.author, 1 << 62)
            if on_chain and e.seq > 0 and chain_ok.get((e.author, e.seq - 1)) != e.prev:
                rest.append(e)
                continue
            ctx = frozenset((room_id,)) if genesis else context(e.deps)
            key = key_of(ctx)
            if key is None or e.ciphertext is None:
                rest.append(e)
                continue
            past: set[bytes] = set()
            for d in e.deps:
                past |= nodes[d].past | {d}
            try:
                plain = open_payload(key, e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
                if not genesis and not admitted(e.author, past):
                    raise InvalidEntry("not a member")
                bound = max((nodes[d].op.ts for d in e.deps), default=0)
                if plain[0] == KIND_CONTROL:
                    op = parse_op(ControlOp.decode(plain[1:]))
                    if op.ts < bound:
                        raise InvalidEntry("too early")
                    nodes[e.hash] = Node(e, op, past)
                elif not on_chain:
                    # content past a fork is void, but a deletion of its item still needs to know whose it is
                    for item in summarize_update(plain[1:]).inserts:
                        if item.client == client_id(short_id(e.author), e.seq):
                            owners.setdefault(item.client, (e.author, item.root, item.key))
                else:
                    check = check_content(e, plain[1:], short_id(e.author), owners.get)
                    if check.ts is not None and check.ts < bound:
                        raise InvalidEntry("too early")
                    for item in check.summary.inserts:
                        owners[item.client] = (e.author, item.root, item.key)
                    checks.append((e, check, past))
            except UnknownItem:
                rest.append(e)
                continue
            except (DecodeError, InvalidEntry):
                if on_chain:
                    broken.add(e.author)  # nothing after a broken entry of a chain can be placed
                continue
            progress = True
            if on_chain:
                chain_ok[(e.author, e.seq)] = e.hash
            contexts[e.hash] = ctx
        pending = rest
    order, effective, state, timelines = _resolve(nodes, forks)
    held, valid = set(), set()
    for e, check, past in checks:
        held.add((e.author, e.seq))
        role = _role(timelines.get(e.author, []), past, e.seq, forks.get(e.author))
        if role is not None and role >= check.need:
            valid.add((e.author, e.seq))
    return Verdict(effective, valid, held, state, order, contexts)


def _resolve(nodes: dict[bytes, Node], forks: dict[bytes, int]):
    state = ControlState()
    remaining = set(nodes)
    order: list[bytes] = []
    effective: set[bytes] = set()
    timelines: dict[bytes, list[tuple[bytes, Role | None, int | None, bool]]] = {}
    done: set[bytes] = set()

    def hard_ready(h: bytes) -> bool:
        n = nodes[h]
        if any(d not in done for d in n.e.deps):
            return False
        fork = forks.get(n.e.author, 1 << 62)
        if n.e.seq < fork:
            earlier = [x for x in nodes.values() if x.e.author == n.e.author and x.e.seq < n.e.seq]
            return all(x.e.hash in done for x in earlier)
        return True

    def soft_blocked(h: bytes) -> bool:
        n = nodes[h]
        for r in remaining:
            if r == h:
                continue
            o = nodes[r].op
            if o.op in ("remove", "role") and o.target == n.e.author and nodes[r].e.author != n.e.author:
                if h not in nodes[r].past and (o.after_seq is None or n.e.seq > o.after_seq):
                    return True
        return False

    while remaining:
        ready = [h for h in remaining if hard_ready(h)]
        if not ready:
            break
        full = [h for h in ready if not soft_blocked(h)]

        def priority(h: bytes) -> tuple[int, int, bytes]:
            m = state.members.get(nodes[h].e.author)
            return (0, 1 << 62, h) if m is None else (-int(m.role), m.since, h)

        h = min(full or ready, key=priority)
        remaining.discard(h)
        done.add(h)
        n = nodes[h]
        position = len(order)
        order.append(h)
        if n.e.seq >= forks.get(n.e.author, 1 << 62):
            continue
        try:
            effect = apply_op(state, n.e.author, n.op, position)
        except DecodeError:
            continue
        effective.add(h)
        if effect is not None:
            timelines.setdefault(effect.member, []).append((h, effect.role, effect.after_seq, effect.restricting))
    return order, effective, state, timelines


def _role(timeline, past: set[bytes], seq: int, fork: int | None) -> Role | None:
    if fork is not None and seq >= fork:
        return None
    role = None
    lowest: int | None = None
    for h, new, after, restricting in timeline:
        if h in past:
            role = new
        elif restricting and (after is None or seq > after):
            rank = 0 if new is None else int(new)
            lowest = rank if lowest is None else min(lowest, rank)
    if role is None:
        return None
    if lowest is None:
        return role
    if lowest == 0:
        return None
    return min(role, Role(lowest))


__all__ = ["judge", "Verdict", "eid", "ROOTS"]
