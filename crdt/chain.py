"""One author's chain in memory: the hash of each of its entries, by sequence number, read from the store lazily.

A room opened from a store knows each author's newest entry at once, and reads the
hashes of the older ones only when something asks for one (a peer sends an entry we
hold, or names an older head): opening a room of 100k entries then costs its number
of authors, not of entries. The hot path of ingest works on `hashes`, a plain list
whose stored part holds `None` until it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import overload


class Chain:
    """The entry hashes of one author, seq 0 on; like a list of bytes that may read its stored part on first use."""

    __slots__ = ("hashes", "_loader", "_stored")

    def __init__(self, hashes: list[bytes] | None = None, *, stored: int = 0, last: bytes = b"",
                 loader: Callable[[int], list[bytes]] | None = None) -> None:
        """Either the hashes themselves, or `stored` entries whose newest hash is `last` and whose hashes
        `loader(stored)` reads (seq 0 to `stored` - 1, in order)."""
        self._loader = loader if stored > 1 else None
        self._stored = stored
        self.hashes: list[bytes | None] = list(hashes or [])
        if loader is not None and stored > 0:
            self.hashes = [None] * (stored - 1)
            self.hashes.append(last)

    def __len__(self) -> int:
        return len(self.hashes)

    def __bool__(self) -> bool:
        return bool(self.hashes)

    def __repr__(self) -> str:
        return f"Chain({len(self.hashes)} entries{', stored part not read' if self._loader else ''})"

    @overload
    def __getitem__(self, i: int) -> bytes: ...

    @overload
    def __getitem__(self, i: slice) -> list[bytes]: ...

    def __getitem__(self, i: int | slice) -> bytes | list[bytes]:
        if isinstance(i, slice):
            self.load()
            return self.hashes[i]  # type: ignore[return-value]
        h = self.hashes[i]
        if h is None:
            self.load()
            h = self.hashes[i]
            assert h is not None
        return h

    def __iter__(self) -> Iterator[bytes]:
        self.load()
        return iter(self.hashes)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Chain):
            other = other.hashes if other._loader is None else list(other)
        return isinstance(other, list) and list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def append(self, h: bytes) -> None:
        self.hashes.append(h)

    def load(self) -> None:
        """Read the stored part, if it has not been read yet."""
        loader = self._loader
        if loader is None:
            return
        stored = self._stored
        got = loader(stored)
        if len(got) != stored or got[-1] != self.hashes[stored - 1]:
            raise RuntimeError("the stored chain of an author does not match what the room was opened with")
        self.hashes[:stored] = got
        self._loader = None
