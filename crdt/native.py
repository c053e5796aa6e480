"""The compiled readers (crdt/_native.pyx) if they were built, bound to the classes they make.

`fast_decode_entry(buf, pos)` and `fast_check_message(e, body, writer)` return what the Python reference
(`crdt.entry.decode_entry`, `crdt.content.check_content`) would return for the usual entry and the usual
message, or None, and then the caller runs the reference. Without the compiled module they always
return None (`NATIVE` is False; also with HUBBUB_NATIVE=0): Hubbub works the same, only a catch-up costs
more.
`fast_entries_frame` (None without it) packs entries into an ENTRIES frame as `crdt.sync.frames_for`
does with `Entry.encode`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .content import INSERTS, ContentCheck
from .entry import MAX_CIPHERTEXT, MAX_DEPS, Entry
from .schema import MAX_NAME, MAX_TEXT, ROOT_INDEX, Role
from .yjs_update import InsertedItem, UpdateSummary


def _none(*_args: Any) -> None:
    return None


def _blake2b_address() -> int:
    """Where libsodium's BLAKE2b is in PyNaCl's build (0 if it is not there: the compiled code then uses hashlib)."""
    try:
        from nacl._sodium import ffi, lib
        return int(ffi.cast("uintptr_t", ffi.addressof(lib, "crypto_generichash_blake2b_salt_personal")))
    except (ImportError, AttributeError, TypeError):
        return 0


fast_decode_entry: Callable[[bytes, int], tuple[Entry, int] | None] = _none
fast_check_message: Callable[[Entry, bytes, str], ContentCheck | None] = _none
fast_decode_entries: Callable[[bytes, int, int, int], list[Entry] | None] = _none
fast_entries_frame: Callable[[list[Entry], int, int, bytes], tuple[bytes, int]] | None = None

try:
    if os.environ.get("HUBBUB_NATIVE") == "0":  # the Python readers only (to compare, or to rule this out)
        raise ImportError("HUBBUB_NATIVE=0")
    from . import _native, _native_write  # type: ignore[attr-defined]
except ImportError:  # not built (a source tree without a compiler): the Python readers do it all
    NATIVE = False
else:
    NATIVE = True
    _native.bind(Entry, ContentCheck, UpdateSummary, InsertedItem, Role.MEMBER, ROOT_INDEX["m"], INSERTS,
                 MAX_NAME, MAX_TEXT, MAX_DEPS, MAX_CIPHERTEXT, _blake2b_address())
    fast_decode_entry = _native.decode_entry
    fast_check_message = _native.check_message
    fast_decode_entries = _native.decode_entries
    fast_entries_frame = _native_write.encode_entries_frame
