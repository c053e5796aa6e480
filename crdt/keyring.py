"""Room keys: one per key rotation, and the key of a context of concurrent rotations merged into one.

Every rotation (the genesis, a removal, a rekey) brings a fresh random key, named by
the hash of the entry that brought it (the genesis key's name is the room id). An
entry is encrypted under the key of its *context*: the newest rotations in the causal
past its `deps` name (`ControlGraph.context`). One rotation: its key. Concurrent
rotations: a key derived from all of theirs, so whoever was removed in any of them,
and so lacks that one's key, cannot derive it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

Context = frozenset[bytes]


def merged_key(parts: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The key of a context of several rotations, from (rotation id, key) pairs."""
    h = hashlib.blake2b(digest_size=32, person=b"hubbub-keymerge")
    for rotation, key in sorted(parts):
        h.update(rotation)
        h.update(key)
    return h.digest()


class KeyRing:
    """The rotation keys one member holds for one room."""

    def __init__(self, keys: dict[bytes, bytes] | None = None) -> None:
        self._keys: dict[bytes, bytes] = dict(keys or {})
        self._merged: dict[Context, bytes] = {}  # keys by context: merged ones, and single ones once looked up

    def __contains__(self, rotation: object) -> bool:
        return rotation in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._keys)

    def get(self, rotation: bytes) -> bytes | None:
        return self._keys.get(rotation)

    def items(self) -> list[tuple[bytes, bytes]]:
        return list(self._keys.items())

    def as_dict(self) -> dict[bytes, bytes]:
        return dict(self._keys)

    def add(self, rotation: bytes, key: bytes) -> bool:
        """Hold `key` for `rotation` unless one is held already (a held key is never replaced)."""
        if rotation in self._keys:
            return False
        self._keys[rotation] = key
        return True

    def discard(self, rotation: bytes) -> None:
        """Drop a key that turned out not to match its rotation's commitment."""
        self._keys.pop(rotation, None)
        self._merged = {c: k for c, k in self._merged.items() if rotation not in c}

    def missing(self, context: Context) -> list[bytes]:
        return [r for r in context if r not in self._keys]

    def key_for(self, context: Context) -> bytes | None:
        """The key of `context`, or None when a rotation's key in it is not held."""
        cached = self._merged.get(context)  # once found, by the context itself: one lookup per entry
        if cached is not None:
            return cached
        if len(context) == 1:
            (only,) = context
            key = self._keys.get(only)
            if key is not None:
                self._merged[context] = key
            return key
        parts = []
        for rotation in context:
            key = self._keys.get(rotation)
            if key is None:
                return None
            parts.append((rotation, key))
        merged = self._merged[context] = merged_key(parts)
        return merged
