"""Pausing Python's cycle collector around a batch that allocates many objects which all outlive it.

A catch-up of thousands of entries, or the index of a room's messages, allocates a
few objects per entry that live until the batch ends (or for good). Every full
collection that growth sets off walks the whole heap, which in a process holding big
rooms costs more than the batch itself (a fifth of a 100k-entry catch-up; a quarter
of opening a 100k room). The batches this guards make no reference cycles, and the
collector runs again as soon as they return; nested uses leave it to the outermost.
"""

from __future__ import annotations

import gc
from types import TracebackType


class CollectorPaused:
    """`with CollectorPaused():` runs its block with the cycle collector off (if it was on)."""

    __slots__ = ("_was_on",)

    def __enter__(self) -> None:
        self._was_on = gc.isenabled()
        if self._was_on:
            gc.disable()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._was_on:
            gc.enable()
