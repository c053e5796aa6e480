"""The node's table of discovery hints (sans-IO): bounded, least recently seen evicted first.

Every source's hints land here. Caps (`Limits`): hints in all, per announcing host, and
candidate addresses per node id. When a cap is reached the worst entry goes: an address that
carried an authenticated session ("pinned") is never evicted by a hint; then a hint whose room
beacons match one of our secrets (a room-mate) outranks any other; among equals the least
recently seen goes first. So thousands of fake announcements cost a bounded table and cannot
push out the peers this node already knows or shares a room with.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from p2p.config import Limits
from p2p.room_tokens import BeaconBook
from p2p.rooms import RoomSecret
from p2p.routes import Address, Hint

NodeKey = tuple[str, str]
"""(source, node id): one dial target."""
_Key = tuple[str, str, Address]


@dataclass
class _Entry:
    hint: Hint
    room_mate: bool = False
    pinned: bool = False

    def rank(self) -> tuple[bool, bool]:
        return (self.pinned, self.room_mate)


class HintTable:
    """Hints by (source, node id, address), in order of last sighting."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._beacons = BeaconBook()
        self.evicted = 0
        """Hints dropped to stay within the caps (for probes and tests)."""

    def __len__(self) -> int:
        return len(self._entries)

    def set_secrets(self, secrets: Sequence[RoomSecret]) -> None:
        """Our secrets changed: recompute which hints are room-mates'."""
        self._beacons = BeaconBook(secrets)
        for entry in self._entries.values():
            entry.room_mate = self._beacons.matches(entry.hint.beacons, entry.hint.node_id)

    def seen(self, hint: Hint) -> bool:
        """Add or refresh `hint`; False when the caps leave no room for it."""
        key = (hint.source, hint.node_id, hint.address)
        entry = self._entries.get(key)
        if entry is not None:
            entry.hint = hint
            entry.room_mate = self._beacons.matches(hint.beacons, hint.node_id)
            self._entries.move_to_end(key)
            return True
        entry = _Entry(hint, self._beacons.matches(hint.beacons, hint.node_id))
        self._entries[key] = entry
        limits = self.limits
        self._enforce(lambda k, e: (k[0], k[1]) == (hint.source, hint.node_id), limits.max_candidates)
        self._enforce(lambda k, e: e.hint.address.host == hint.address.host and k[0] == hint.source,
                      limits.max_hints_per_host)
        self._enforce(lambda k, e: True, limits.max_hints)
        return key in self._entries

    def _enforce(self, where: Callable[[_Key, _Entry], bool], cap: int) -> None:
        group = [(k, e) for k, e in self._entries.items() if where(k, e)]
        excess = len(group) - cap
        if excess <= 0:
            return
        # Worst first: unpinned before pinned, strangers before room-mates, then oldest sighting
        # (the group is in sighting order, and sorted() is stable).
        for k, e in sorted(group, key=lambda item: item[1].rank())[:excess]:
            if e.pinned:
                break
            del self._entries[k]
            self.evicted += 1

    def lost(self, source: str, node_id: str, keep: Collection[Address] = ()) -> list[Address]:
        """Drop `node_id`'s unpinned addresses outside `keep`; returns those dropped."""
        gone = [k for k, e in self._entries.items()
                if (k[0], k[1]) == (source, node_id) and k[2] not in keep and not e.pinned]
        for k in gone:
            del self._entries[k]
        return [k[2] for k in gone]

    def remove(self, source: str, node_id: str, address: Address) -> None:
        """Drop one address (it answered with the wrong key), pinned or not."""
        self._entries.pop((source, node_id, address), None)

    def pin(self, source: str, node_id: str, address: Address, pinned: bool = True) -> None:
        """Mark the address a session authenticated through (it is then never evicted by hints)."""
        entry = self._entries.get((source, node_id, address))
        if entry is not None:
            entry.pinned = pinned

    def candidates(self, source: str, node_id: str) -> list[Address]:
        """`node_id`'s addresses: pinned first, then the most recently seen."""
        mine = [e for k, e in reversed(self._entries.items()) if (k[0], k[1]) == (source, node_id)]
        return [e.hint.address for e in sorted(mine, key=lambda e: not e.pinned)]

    def best(self, source: str, node_id: str) -> Hint | None:
        """The most recent hint for `node_id`."""
        for k, e in reversed(self._entries.items()):
            if (k[0], k[1]) == (source, node_id):
                return e.hint
        return None

    def is_room_mate(self, source: str, node_id: str) -> bool:
        return any(e.room_mate for k, e in self._entries.items() if (k[0], k[1]) == (source, node_id))

    def node_keys(self) -> list[NodeKey]:
        """Every (source, node id), room-mates first, then the most recently seen."""
        order: dict[NodeKey, tuple[bool, int]] = {}
        for index, (k, e) in enumerate(self._entries.items()):
            node = (k[0], k[1])
            mate, _ = order.get(node, (False, 0))
            order[node] = (mate or e.room_mate or e.pinned, index)
        return sorted(order, key=lambda n: (not order[n][0], -order[n][1]))

    def hints(self, source: str | None = None) -> list[Hint]:
        """One hint per (source, node id) (the most recent), optionally of one source."""
        latest: dict[NodeKey, Hint] = {}
        for k, e in self._entries.items():
            if source is None or k[0] == source:
                latest[(k[0], k[1])] = e.hint
        return list(latest.values())
