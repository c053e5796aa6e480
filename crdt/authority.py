"""The role an author held for one content entry (a message, an edit, a channel...), in the resolved state.

Content entries are not control operations, so they have no place in the resolved
order; their authority comes from the author's *timeline*: the effective operations
about that member (add, role changes, removal), in resolved order.

* Operations in the entry's causal past (the closure of its `deps`) set the role, in
  order: that is the role the author knew it had.
* Every effective removal or demotion that is *not* in that past, and whose
  `after_seq` is below the entry's sequence number, caps the role: the entry was not
  seen by whoever took the authority away, so it gets only what remained (strong
  removal). Claiming older `deps` only moves more of these caps onto the entry.
* An author caught equivocating holds nothing from the forked sequence number on.

Operations the author never saw that would *raise* its role are ignored: an entry
gets the authority its author knew of, never more.
"""

from __future__ import annotations

from collections.abc import Sequence

from .resolve import TimelineOp
from .schema import Role


def role_for(timeline: Sequence[TimelineOp], past_bits: int, seq: int, fork_seq: int | None = None) -> Role | None:
    """The role behind entry number `seq` of a member whose timeline is `timeline`, written with causal
    past `past_bits` (a `ControlGraph.closure_bits` set); None when it was not a member for it."""
    if fork_seq is not None and seq >= fork_seq:
        return None
    role: Role | None = None
    cap = 99
    for op in timeline:
        if past_bits >> op.idx & 1:
            role = op.role  # type: ignore[assignment]
        elif op.restricting and (op.after_seq is None or seq > op.after_seq):
            cap = min(cap, 0 if op.role is None else int(op.role))  # type: ignore[call-overload]
    if role is None or cap == 0:
        return None
    return role if int(role) <= cap else Role(cap)


def caps_only_below(timeline: Sequence[TimelineOp]) -> int:
    """The smallest `after_seq` among the restricting operations of a timeline (entries at or below it
    are never capped), or a huge number when there are none: used to skip re-checking old entries."""
    lows = [op.after_seq for op in timeline if op.restricting and op.after_seq is not None]
    if any(op.restricting and op.after_seq is None for op in timeline):
        return -1
    return min(lows) if lows else 1 << 62
