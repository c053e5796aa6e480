"""What a room keeps in memory about every entry of one author: its deps, the role it needs, its flags.

Three small arrays per author, indexed by sequence number from `base` on, so a room of
100k messages costs a few hundred kilobytes here. Entries written before the room was
opened are loaded on demand (`RoomLog.meta_loader`), only when the resolved control
state changes in a way that might change their authority.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable


class Interner:
    """Dependency lists repeat across thousands of entries: each distinct one gets a small number."""

    def __init__(self) -> None:
        self._ids: dict[tuple[bytes, ...], int] = {}
        self._lists: list[tuple[bytes, ...]] = []

    def id(self, deps: tuple[bytes, ...]) -> int:
        i = self._ids.get(deps)
        if i is None:
            i = self._ids[deps] = len(self._lists)
            self._lists.append(deps)
        return i

    def deps(self, i: int) -> tuple[bytes, ...]:
        return self._lists[i]


class AuthorMeta:
    """Per-entry (deps id, needed role, flags) of one author's entries `base`..`base+len-1`."""

    __slots__ = ("base", "deps", "need", "flags")

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.deps = array("I")
        self.need = bytearray()
        self.flags = bytearray()

    def __len__(self) -> int:
        return len(self.flags)

    @property
    def end(self) -> int:
        return self.base + len(self.flags)

    def has(self, seq: int) -> bool:
        return self.base <= seq < self.end

    def append(self, seq: int, deps_id: int, need: int, flags: int) -> None:
        if seq - self.base != len(self.flags):
            raise ValueError(f"entry {seq} does not extend the author's entries held ({self.end})")
        self.deps.append(deps_id)
        self.need.append(need)
        self.flags.append(flags)

    def drop_last(self) -> None:
        self.deps.pop()
        del self.need[-1]
        del self.flags[-1]

    def prepend(self, rows: Iterable[tuple[int, int, int, int]]) -> None:
        """Add the entries before `base` (rows of seq, deps id, need, flags, from seq 0, in order)."""
        rows = list(rows)
        if not rows:
            return
        if rows[0][0] != 0 or rows[-1][0] != self.base - 1:
            raise ValueError("loaded entries do not cover the author's chain up to what is held")
        self.deps = array("I", [r[1] for r in rows]) + self.deps
        self.need = bytearray(r[2] for r in rows) + self.need
        self.flags = bytearray(r[3] for r in rows) + self.flags
        self.base = 0

    def get_flags(self, seq: int) -> int:
        return self.flags[seq - self.base]

    def set_flags(self, seq: int, flags: int) -> None:
        self.flags[seq - self.base] = flags
