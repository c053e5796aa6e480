"""Resolution of a room's control operations: one deterministic order, each operation re-checked in it.

The input is the *set* of control entries held (`ControlGraph`); the output
(`Resolution`) depends on nothing else, not on the order they arrived in.

The order is a topological sort of the causal graph (`deps`, and each author's own
chain) with two more kinds of rule:

* **Strong removal.** A removal or role change of member T comes before every control
  operation of T that is not in its causal past (not in the closure of its `deps`,
  and after the `after_seq` it names). So an operation T made concurrently with
  losing the authority for it is checked against a state where T has lost it: void.
  Claiming old `deps` does not help, because "not in the causal past" is exactly
  what such a claim makes true.
* **Ties** between operations that are ready together go to the author with the
  higher role in the state resolved so far, then the more senior member (the one who
  joined earlier in this order), then the smaller entry hash. This is Matrix state
  resolution v2's "power, then age, then id", applied step by step.

Two removals can each be outside the other's past, so strong removal can form a cycle
(A removes B while B removes A); then the tie rule alone picks which goes first, and
the other is checked against its outcome. Every operation is applied to the state
resolved before it (`crdt.control.apply_op`); one that no longer holds is *void*: it
stays in the log, changes nothing, and may become effective again if the operations
that voided it are themselves voided later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .control import ControlState, Effect, ParsedOp, apply_op
from .errors import DecodeError
from .keyring import Context

CACHE_LIMIT = 4096


@dataclass(slots=True)
class ControlNode:
    """One control entry in the graph; `idx` is its bit in closure sets (local, never reused)."""

    hash: bytes
    author: bytes
    seq: int
    op: ParsedOp
    deps: tuple[bytes, ...]
    idx: int
    anc: int                 # strict ancestors, as a bit set over idx
    key_gen: int             # the generation of the key this node's own payload uses
    rotation: bool           # it brings a new key (genesis, remove with rotate, rekey)
    rot_gen: int = 0         # for a rotation: the generation of the key it brings


@dataclass(frozen=True, slots=True)
class TimelineOp:
    """An effective operation about one member, in resolved order."""

    hash: bytes
    idx: int
    role: object             # crdt.schema.Role or None
    after_seq: int | None
    restricting: bool


class ControlGraph:
    """The control entries of a room, with cached causal closures, key contexts and time bounds."""

    def __init__(self) -> None:
        self.nodes: dict[bytes, ControlNode] = {}
        self.by_idx: list[ControlNode] = []
        self.rotations: list[ControlNode] = []
        self.by_author: dict[bytes, list[ControlNode]] = {}
        self.rot_mask = 0
        self.adds: dict[bytes, int] = {}  # member -> the nodes that add it (or, for the owner, the genesis)
        self._bits: dict[tuple[bytes, ...], int] = {}
        self._contexts: dict[tuple[bytes, ...], Context] = {}

    def __contains__(self, h: object) -> bool:
        return h in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def add(self, h: bytes, author: bytes, seq: int, op: ParsedOp, deps: tuple[bytes, ...], key_gen: int) -> ControlNode:
        """Add a control entry whose deps are all in the graph already."""
        anc = 0
        for d in deps:
            n = self.nodes[d]
            anc |= n.anc | (1 << n.idx)
        rotation = op.op == "genesis" or op.rotation is not None
        node = ControlNode(h, author, seq, op, deps, len(self.by_idx), anc, key_gen, rotation,
                           0 if op.op == "genesis" else key_gen + 1)
        self.nodes[h] = node
        self.by_idx.append(node)
        self.by_author.setdefault(author, []).append(node)
        self.by_author[author].sort(key=lambda c: (c.seq, c.hash))
        admitted = author if op.op == "genesis" else op.target if op.op == "add" else None
        if admitted is not None:
            self.adds[admitted] = self.adds.get(admitted, 0) | (1 << node.idx)
        if rotation:
            self.rotations.append(node)
            self.rot_mask |= 1 << node.idx
        return node

    def closure_bits(self, deps: tuple[bytes, ...]) -> int:
        """The causal past named by `deps` (the deps and all their ancestors), as a bit set."""
        bits = self._bits.get(deps)
        if bits is None:
            bits = 0
            for d in deps:
                n = self.nodes[d]
                bits |= n.anc | (1 << n.idx)
            if len(self._bits) > CACHE_LIMIT:
                self._bits.clear()
                self._contexts.clear()
            self._bits[deps] = bits
        return bits

    def admits(self, member: bytes, deps: tuple[bytes, ...]) -> bool:
        """Whether the causal past named by `deps` holds any operation adding `member` (valid or not):
        without one, nothing that arrives later can make an entry by that member valid."""
        return bool(self.closure_bits(deps) & self.adds.get(member, 0))

    def context(self, deps: tuple[bytes, ...]) -> Context:
        """The rotations whose keys an entry with these deps is encrypted under: the newest in its past."""
        ctx = self._contexts.get(deps)
        if ctx is None:
            bits = self.closure_bits(deps)
            inside = [r for r in self.rotations if bits >> r.idx & 1]
            covered = 0
            for r in inside:
                covered |= r.anc
            ctx = frozenset(r.hash for r in inside if not covered >> r.idx & 1)
            self._contexts[deps] = ctx
        return ctx

    def generation(self, context: Iterable[bytes]) -> int:
        return max((self.nodes[r].rot_gen for r in context), default=0)

    def time_bound(self, deps: tuple[bytes, ...]) -> int:
        """The earliest time an entry with these deps may claim: the newest operation it names."""
        return max((self.nodes[d].op.ts for d in deps), default=0)


@dataclass(slots=True)
class Resolution:
    """The resolved control state of a set of control entries."""

    order: list[bytes] = field(default_factory=list)
    effective: set[bytes] = field(default_factory=set)
    state: ControlState = field(default_factory=ControlState)
    timelines: dict[bytes, list[TimelineOp]] = field(default_factory=dict)
    frontier: tuple[bytes, ...] = ()
    reasons: dict[bytes, str] = field(default_factory=dict)  # why each void operation is void


def resolve(graph: ControlGraph, forks: dict[bytes, int] | None = None) -> Resolution:
    """Resolve every control entry in `graph`; `forks` maps an equivocating author to its first forked seq."""
    forks = forks or {}
    nodes = graph.by_idx
    succ_hard: list[list[int]] = [[] for _ in nodes]
    succ_soft: list[list[int]] = [[] for _ in nodes]
    indeg_hard = [0] * len(nodes)
    indeg_soft = [0] * len(nodes)
    for author, chain in graph.by_author.items():
        # An author's own operations come in its chain's order (up to where it forked, if it did).
        fork = forks.get(author, 1 << 62)
        linear = [n for n in chain if n.seq < fork]
        for before, after in zip(linear, linear[1:]):
            succ_hard[before.idx].append(after.idx)
            indeg_hard[after.idx] += 1
    for n in nodes:
        for d in n.deps:
            succ_hard[graph.nodes[d].idx].append(n.idx)
            indeg_hard[n.idx] += 1
        target = n.op.target
        if n.op.op in ("remove", "role") and target is not None and target != n.author:
            past = n.anc
            for x in graph.by_author.get(target, ()):
                if x is n or past >> x.idx & 1:
                    continue
                if n.op.after_seq is not None and x.seq <= n.op.after_seq:
                    continue
                succ_soft[n.idx].append(x.idx)
                indeg_soft[x.idx] += 1
    out = Resolution()
    state = out.state
    ready = {n.idx for n in nodes if indeg_hard[n.idx] == 0}
    position = 0
    while ready:
        full = [i for i in ready if indeg_soft[i] == 0]
        pool = full or list(ready)
        i = min(pool, key=lambda j: _priority(state, nodes[j]))
        ready.discard(i)
        node = nodes[i]
        out.order.append(node.hash)
        _process(out, node, forks, position)
        position += 1
        for j in succ_hard[i]:
            indeg_hard[j] -= 1
            if indeg_hard[j] == 0:
                ready.add(j)
        for j in succ_soft[i]:
            indeg_soft[j] -= 1
    covered = 0
    for h in out.effective:
        covered |= graph.nodes[h].anc
    out.frontier = tuple(sorted(h for h in out.effective if not covered >> graph.nodes[h].idx & 1))
    return out


def _priority(state: ControlState, node: ControlNode) -> tuple[int, int, bytes]:
    member = state.members.get(node.author)
    if member is None:
        return (0, 1 << 62, node.hash)
    return (-int(member.role), member.since, node.hash)


def _process(out: Resolution, node: ControlNode, forks: dict[bytes, int], position: int) -> None:
    fork = forks.get(node.author)
    if fork is not None and node.seq >= fork:
        out.reasons[node.hash] = "author equivocated: two entries with one sequence number"
        return
    try:
        effect: Effect | None = apply_op(out.state, node.author, node.op, position)
    except DecodeError as exc:
        out.reasons[node.hash] = str(exc)
        return
    out.effective.add(node.hash)
    if effect is not None:
        out.timelines.setdefault(effect.member, []).append(
            TimelineOp(node.hash, node.idx, effect.role, effect.after_seq, effect.restricting))
