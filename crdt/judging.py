"""Judging authority: resolving the control graph again, and re-checking the entries whose standing changed."""

from __future__ import annotations

from .authority import role_for
from .content import CONTROL, HOLLOW, VALID, refusal
from .control import member_of
from .resolve import resolve
from .roomstate import RoomState
from .roomtypes import IngestResult, Staged, log
from .schema import Role


class Judging(RoomState):
    """The judging half of `RoomLog`."""

    def _resolve_again(self, result: IngestResult, flips: list[tuple[bytes, int, bool]],
                       batch: set[tuple[bytes, int]], fresh: set[bytes]) -> None:
        old = self.resolution
        new = self.resolution = resolve(self.graph, self.forks)
        result.control_changed = True
        for h in old.effective ^ new.effective:
            node = self.graph.nodes[h]
            if (node.author, node.seq) not in batch:
                meta = self._meta(node.author, node.seq)
                if meta is not None:
                    f = (meta.get_flags(node.seq) & ~VALID) | (VALID if h in new.effective else 0)
                    meta.set_flags(node.seq, f)
                    result.flipped.append((node.author, node.seq, f))
        lows: dict[bytes, int] = {}
        for member in set(old.timelines) | set(new.timelines):
            before = [(t.hash, t.role, t.after_seq, t.restricting) for t in old.timelines.get(member, [])]
            after = [(t.hash, t.role, t.after_seq, t.restricting) for t in new.timelines.get(member, [])]
            if before == after:
                continue
            appended = after[len(before):]
            if after[: len(before)] == before and all(t[0] in fresh for t in appended):
                # Only operations that arrived just now: no entry held before has them in its causal past,
                # so only removals and demotions among them (as caps after their after_seq) can matter.
                added = [t for t in appended if t[3]]
                if not added:
                    continue
                lows[member] = min(-1 if t[2] is None else t[2] for t in added)
            else:
                lows[member] = -1
        for eq in result.equivocations:
            lows[eq.author] = min(lows.get(eq.author, 1 << 62), eq.seq - 1)
        for author, low in lows.items():
            self._recheck(author, low, batch, flips, result)

    def _recheck(self, author: bytes, low: int, batch: set[tuple[bytes, int]],
                 flips: list[tuple[bytes, int, bool]], result: IngestResult) -> None:
        """Judge again the content entries of `author` after seq `low` against the new resolution."""
        head = self.head(author)
        if head <= low:
            return
        self._meta(author, max(low + 1, 0))  # loads older entries' records if they are needed
        meta = self.meta.get(author)
        if meta is None:
            return
        timeline = self.resolution.timelines.get(member_of(author), [])
        fork = self.forks.get(author)
        for seq in range(max(low + 1, meta.base), head + 1):
            f = meta.get_flags(seq)
            if f & (CONTROL | HOLLOW) or (author, seq) in batch:
                continue
            deps = self.interner.deps(meta.deps[seq - meta.base])
            role = role_for(timeline, self.graph.closure_bits(deps), seq, fork)
            valid = role is not None and int(role) >= meta.need[seq - meta.base]
            if valid != bool(f & VALID):
                flips.append((author, seq, valid))

    def _authorize(self, staged: list[Staged], result: IngestResult) -> None:
        """Judge the entries linked in this ingest (their flags gain VALID when authorised)."""
        timelines = self.resolution.timelines
        effective = self.resolution.effective
        graph = self.graph
        accepted, flags = result.accepted, result.flags
        metas = self.meta
        at = 0  # staged entries that are not repairs were accepted in this same order
        cache: dict[tuple[bytes, tuple[bytes, ...]], Role | None] = {}
        for s in staged:
            e = s.entry
            meta = metas[e.author]
            slot = e.seq - meta.base
            f = meta.flags[slot]
            reason = ""
            if f & CONTROL:
                valid = e.hash in effective
                if not valid:
                    reason = self.resolution.reasons.get(e.hash, "")
            elif f & HOLLOW:
                if not s.repair:
                    at += 1
                continue
            else:
                check = s.check
                assert check is not None
                key = (e.author, e.deps)
                if key in cache:
                    role = cache[key]
                else:
                    timeline = timelines.get(member_of(e.author), ())
                    role = role_for(timeline, graph.closure_bits(e.deps), e.seq, self.forks.get(e.author))
                    if not any(t.restricting for t in timeline) and e.author not in self.forks:
                        cache[key] = role  # the same for every entry of the author with these deps
                valid = role is not None and role >= check.need
                if not valid:
                    reason = refusal(check.need, check.summary) if role is not None else "author is not a member"
            f = (f & ~VALID) | (VALID if valid else 0)
            meta.flags[slot] = f
            if not s.repair:
                if at >= len(accepted) or accepted[at] is not e:  # not expected: find it
                    at = next(i for i, a in enumerate(accepted) if a is e)
                flags[at] = f
                at += 1
            else:
                result.flipped.append((e.author, e.seq, f))
            if not valid:
                log.info("void entry %s/%d: %s", e.author.hex()[:12], e.seq, reason)
                result.void.append((e, reason))
                self.void_counts[e.author] = self.void_counts.get(e.author, 0) + 1
