"""The state of one room in memory, and the questions it answers; `RoomLog` builds on it (crdt/room.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from nacl.signing import SigningKey
from pycrdt import Doc, Map

from .authority import role_for
from .chain import Chain
from .content import VALID
from .control import ControlState, member_of
from .entry import Entry
from .keyring import Context, KeyRing
from .meta import AuthorMeta, Interner
from .pending import PendingPool
from .resolve import ControlGraph, Resolution
from .roomtypes import DepsInfo
from .schema import ROOTS, Role, short_id
from .view import RoomView


class RoomState:
    """What one room holds in memory: chains, control graph and resolution, per-entry records, document."""

    def __init__(self, room_id: bytes, keys: dict[bytes, bytes], identity: SigningKey | None = None) -> None:
        self.room_id = room_id
        self.keys = KeyRing(keys)
        self.identity = identity
        self.graph = ControlGraph()
        self.resolution = Resolution()
        self.forks: dict[bytes, int] = {}
        self.chains: dict[bytes, Chain] = {}
        self.meta: dict[bytes, AuthorMeta] = {}
        self.interner = Interner()
        self.pending = PendingPool()
        self.hollow: set[tuple[bytes, int]] = set()    # held without content
        self.tampered: set[tuple[bytes, int]] = set()  # ...because a copy arrived altered: worth repairing
        self.hollow_hashes: dict[bytes, tuple[bytes, int]] = {}
        self.wanted_hashes: set[bytes] = set()
        self.cid_owner: dict[int, tuple[bytes, str, str]] = {}  # Yjs client id -> (author, root, key)
        self.cid_loader: Callable[[], Iterable[tuple[bytes, int, int]]] | None = None
        self.meta_loader: Callable[[bytes, int], Iterable[tuple[int, tuple[bytes, ...], int, int]]] | None = None
        self.payload_loader: Callable[[bytes, list[int]], dict[int, bytes]] | None = None
        self.updates: dict[tuple[bytes, int], bytes] | None = {}  # held content, when no payload_loader is set
        self.void_counts: dict[bytes, int] = {}
        self.side_nodes: dict[bytes, Entry] = {}  # control entries of an equivocator's other branch
        self.verified: set[bytes] = set()  # hashes whose signature is known good (parked, or signed here)
        self._future: list[tuple[float, bytes, int]] = []
        self._shorts: dict[bytes, str] = {}
        self._deps_cache: dict[tuple[bytes, ...], DepsInfo] = {}
        self.doc: Doc[Any] = Doc()
        self.maps: dict[str, Map[Any]] = {root: self.doc.get(root, type=Map) for root in ROOTS}
        self.entry_count = 0
        self.views: list[RoomView] = []
        self.clock: Callable[[], float] = lambda: time.time() * 1000.0  # ms; what local writes are stamped with

    # ----- reading state -----------------------------------------------------------

    def view(self) -> RoomView:
        """A read model of this room that stays current as entries are ingested."""
        v = RoomView(self.doc)
        self.views.append(v)
        return v

    def head(self, author: bytes) -> int:
        """The highest contiguous sequence number held for `author`, or -1."""
        return len(self.chains.get(author, ())) - 1

    def heads(self) -> dict[bytes, int]:
        return {a: len(c) - 1 for a, c in self.chains.items()}

    def hash_at(self, author: bytes, seq: int) -> bytes | None:
        chain = self.chains.get(author)
        return chain[seq] if chain is not None and 0 <= seq < len(chain) else None

    def state(self) -> ControlState:
        """The resolved control state of every control entry held."""
        return self.resolution.state

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """The newest effective control entries: what a new entry of ours names as `deps`."""
        return self.resolution.frontier

    def current_context(self) -> Context:
        """The rotations whose keys a new entry of ours is encrypted under."""
        return self.graph.context(self.frontier) if self.frontier else frozenset((self.room_id,))

    def current_key(self) -> bytes | None:
        return self.keys.key_for(self.current_context())

    def epoch(self) -> int:
        """The generation of the current key (how many rotations deep it is)."""
        return self.graph.generation(self.current_context()) if self.frontier else 0

    def role_for_next(self, author: bytes) -> Role | None:
        """The role a new entry by `author`, written now, would be judged with."""
        timeline = self.resolution.timelines.get(member_of(author), [])
        bits = self.graph.closure_bits(self.frontier) if self.frontier else 0
        return role_for(timeline, bits, self.head(author) + 1, self.forks.get(author))

    def short(self, author: bytes) -> str:
        s = self._shorts.get(author)
        if s is None:
            s = self._shorts[author] = short_id(author)
        return s

    def flags_of(self, author: bytes, seq: int) -> int | None:
        meta = self._meta(author, seq)
        return None if meta is None else meta.get_flags(seq)

    def is_valid(self, author: bytes, seq: int) -> bool:
        f = self.flags_of(author, seq)
        return f is not None and bool(f & VALID)

    def _meta(self, author: bytes, seq: int) -> AuthorMeta | None:
        meta = self.meta.get(author)
        if meta is not None and meta.has(seq):
            return meta
        if meta is not None and seq < meta.base and self.meta_loader is not None:
            rows = [(s, self.interner.id(d), n, f) for s, d, n, f in self.meta_loader(author, meta.base)]
            meta.prepend(rows)
            return meta if meta.has(seq) else None
        return None

    def void_capped(self, author: bytes, cap: int) -> bool:
        """Whether `author` is not a member now and already filled its share (`cap`) of void entries."""
        if self.void_counts.get(author, 0) < cap or not self.resolution.order:
            return False
        return self.resolution.state.role_of(author) is None
