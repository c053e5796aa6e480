"""One download's plan (sans-IO): which source is asked for which chunk, what came back, and what to do next.

Each source (a peer holding some chunks) has a window of outstanding requests. A chunk goes to the source with room
in its window that holds it and has not already sent a bad copy of it; a chunk whose copy does not match its id
is counted against the source and asked of another; when a source drops, its outstanding chunks go back to the
queue. Nothing here waits or touches a socket: the transfer shell feeds it and acts on what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .chunks import chunk_length

WINDOW = 8  # outstanding chunks per source (8 MiB)


@dataclass(slots=True)
class Source:
    """What one peer holds of the file and what it has been asked for."""

    held: bytearray
    outstanding: set[int] = field(default_factory=set)
    bad: set[int] = field(default_factory=set)
    received: int = 0
    strikes: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a received chunk turned out to be: `ok` to keep, or why not."""

    ok: bool
    reason: str = ""


class DownloadPlan:
    """The chunks of one file still missing, and the sources that may have them."""

    def __init__(self, ids: list[bytes], size: int, held: Iterable[int] = (), window: int = WINDOW) -> None:
        self.ids = ids
        self.size = size
        self.window = window
        self.have = bytearray(len(ids))
        for i in held:
            self.have[i] = 1
        self.done_bytes = sum(chunk_length(size, i) for i in range(len(ids)) if self.have[i])
        self.sources: dict[bytes, Source] = {}
        self._next = 0  # where the search for a missing chunk starts (chunks go out roughly in order)

    # ----- state ---------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return all(self.have)

    def missing(self) -> list[int]:
        return [i for i, held in enumerate(self.have) if not held]

    def stuck(self) -> bool:
        """No source left can supply some missing chunk (nobody online holds it, or only bad copies)."""
        for i in self.missing():
            if not any(s.held[i] and i not in s.bad for s in self.sources.values()):
                return True
        return False

    def in_flight(self) -> set[int]:
        out: set[int] = set()
        for s in self.sources.values():
            out |= s.outstanding
        return out

    # ----- sources -------------------------------------------------------------------------

    def add_source(self, peer: bytes, held: bytes) -> None:
        if len(held) != len(self.ids):
            return
        old = self.sources.get(peer)
        if old is None:
            self.sources[peer] = Source(bytearray(held))
        else:
            old.held = bytearray(held)

    def drop_source(self, peer: bytes) -> set[int]:
        """A source went away; returns the chunks that were outstanding with it (they are asked of others)."""
        source = self.sources.pop(peer, None)
        return set() if source is None else source.outstanding

    # ----- asking --------------------------------------------------------------------------

    def next_wants(self, peer: bytes) -> list[int]:
        """Chunks to ask `peer` for now, filling its window with chunks nobody else is fetching."""
        source = self.sources.get(peer)
        if source is None:
            return []
        room = self.window - len(source.outstanding)
        if room <= 0:
            return []
        busy = self.in_flight()
        out: list[int] = []
        n = len(self.ids)
        start = self._next
        for step in range(n):
            i = (start + step) % n
            if self.have[i] or i in busy or not source.held[i] or i in source.bad:
                continue
            out.append(i)
            source.outstanding.add(i)
            if len(out) >= room:
                break
        if out:
            self._next = (out[-1] + 1) % n
        return out

    # ----- answers -------------------------------------------------------------------------

    def check(self, peer: bytes, index: int, cid: bytes) -> Verdict:
        """A chunk arrived from `peer` and hashed to `cid` (`chunks.chunk_id`, worked out off the loop): does it
        match its id? The shell keeps a good one, then calls `stored`."""
        source = self.sources.get(peer)
        if source is None or index not in source.outstanding or not 0 <= index < len(self.ids):
            return Verdict(False, "sent a chunk that was not asked for")
        if cid != self.ids[index]:
            source.outstanding.discard(index)
            source.bad.add(index)
            source.strikes += 1
            return Verdict(False, "sent a chunk that does not match its id")
        return Verdict(True)

    def stored(self, peer: bytes, index: int) -> None:
        """A checked chunk is on disk."""
        source = self.sources.get(peer)
        if source is not None:
            source.outstanding.discard(index)
            source.received += 1
        if not self.have[index]:
            self.have[index] = 1
            self.done_bytes += chunk_length(self.size, index)

    def refused(self, peer: bytes, index: int) -> None:
        """`peer` does not hold the chunk after all."""
        source = self.sources.get(peer)
        if source is not None:
            source.outstanding.discard(index)
            source.held[index] = 0
