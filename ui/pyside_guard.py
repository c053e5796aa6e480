"""A guard against a PySide6 6.12 reference-count bug on CPython 3.11: make None, True and False effectively immortal.

On CPython 3.11, every `Signal.emit()` from Python drops one reference to `True` that it never took, and
`QListWidgetItem.setData`/`data` do the same to `None`. A long-running window emits signals constantly, so
after a few thousand emits the interpreter aborts with "deallocating True" (seen here within a 200-message
benchmark). CPython 3.12 made these singletons immortal, which hides the bug; this module does the same for
3.11 by adding 2**40 to their reference counts, which no number of lost decrements can use up.
"""

from __future__ import annotations

import ctypes
import sys

BOOST = 1 << 40


def immortalize_singletons() -> None:
    """Give None, True and False a reference count no leak can exhaust (no-op where they are immortal already)."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    for obj in (None, True, False, ()):
        count = ctypes.c_ssize_t.from_address(id(obj))
        if count.value < BOOST:
            count.value += BOOST
