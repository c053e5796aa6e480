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
from collections.abc import Collection, Sequence
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
    """Hints by (source, node id, address), in order of last sighting, indexed by node and by host."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._by_node: dict[NodeKey, OrderedDict[_Key, _Entry]] = {}
        self._by_host: dict[tuple[str, str], OrderedDict[_Key, _Entry]] = {}
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
        node, host = (hint.source, hint.node_id), (hint.source, hint.address.host)
        entry = self._entries.get(key)
        if entry is not None:
            if entry.hint.beacons != hint.beacons:
                entry.room_mate = self._beacons.matches(hint.beacons, hint.node_id)
            entry.hint = hint
            for index in (self._entries, self._by_node[node], self._by_host[host]):
                index.move_to_end(key)
            return True
        entry = _Entry(hint, self._beacons.matches(hint.beacons, hint.node_id))
        self._entries[key] = entry
        self._by_node.setdefault(node, OrderedDict())[key] = entry
        self._by_host.setdefault(host, OrderedDict())[key] = entry
        limits = self.limits
        self._enforce(self._by_node.get(node), limits.max_candidates)
        self._enforce(self._by_host.get(host), limits.max_hints_per_host)
        self._enforce(self._entries, limits.max_hints)
        return key in self._entries

    def _enforce(self, group: OrderedDict[_Key, _Entry] | None, cap: int) -> None:
        """Evict the worst of `group` (in sighting order) until it holds `cap`: unpinned before
        pinned, strangers before room-mates, the least recently seen first."""
        while group is not None and len(group) > cap:
            worst: tuple[_Key, _Entry] | None = None
            for k, e in group.items():
                if not e.pinned and not e.room_mate:
                    worst = (k, e)
                    break
                if not e.pinned and worst is None:
                    worst = (k, e)
            if worst is None:
                return
            self._drop(worst[0])
            self.evicted += 1

    def _drop(self, key: _Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        node, host = (key[0], key[1]), (key[0], entry.hint.address.host)
        for index, name in ((self._by_node, node), (self._by_host, host)):
            group = index.get(name)
            if group is not None:
                group.pop(key, None)
                if not group:
                    del index[name]

    def _node(self, source: str, node_id: str) -> OrderedDict[_Key, _Entry]:
        return self._by_node.get((source, node_id)) or OrderedDict()

    def lost(self, source: str, node_id: str, keep: Collection[Address] = ()) -> list[Address]:
        """Drop `node_id`'s unpinned addresses outside `keep`; returns those dropped."""
        gone = [k for k, e in self._node(source, node_id).items() if k[2] not in keep and not e.pinned]
        for k in gone:
            self._drop(k)
        return [k[2] for k in gone]

    def remove(self, source: str, node_id: str, address: Address) -> None:
        """Drop one address (it answered with the wrong key), pinned or not."""
        self._drop((source, node_id, address))

    def pin(self, source: str, node_id: str, address: Address, pinned: bool = True) -> None:
        """Mark the address a session authenticated through (it is then never evicted by hints)."""
        entry = self._entries.get((source, node_id, address))
        if entry is not None:
            entry.pinned = pinned

    def candidates(self, source: str, node_id: str) -> list[Address]:
        """`node_id`'s addresses: pinned first, then the most recently seen."""
        mine = list(reversed(self._node(source, node_id).values()))
        return [e.hint.address for e in sorted(mine, key=lambda e: not e.pinned)]

    def is_room_mate(self, source: str, node_id: str) -> bool:
        return any(e.room_mate for e in self._node(source, node_id).values())

    def node_keys(self) -> list[NodeKey]:
        """Every (source, node id), known or room-mates first, then the most recently seen."""
        order: dict[NodeKey, tuple[bool, int]] = {}
        for index, (k, e) in enumerate(self._entries.items()):
            node = (k[0], k[1])
            mate, _ = order.get(node, (False, 0))
            order[node] = (mate or e.room_mate or e.pinned, index)
        return sorted(order, key=lambda n: (not order[n][0], -order[n][1]))

    def hints(self, source: str | None = None) -> list[Hint]:
        """One hint per (source, node id) (the most recent), optionally of one source."""
        return [next(reversed(group.values())).hint for node, group in self._by_node.items()
                if source is None or node[0] == source]
