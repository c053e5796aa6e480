"""Rebuilding a `RoomLog` from what a store holds, without checking every entry again.

Everything in a store was checked when it was first held. Opening a room needs the
chains (hashes only), the control entries (decrypted into the control graph and
resolved again, which is cheap), the forks, and the hollow entries; the per-entry
records of content entries are loaded later, and only for an author whose authority
changes (`RoomLog.meta_loader`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nacl.signing import SigningKey

from .chain import Chain
from .cipher import open_payload
from .control import ControlOp, parse_op
from .entry import Entry
from .errors import DecodeError
from .meta import AuthorMeta
from .resolve import resolve
from .room import RoomLog, is_genesis


def restore_log(room_id: bytes, keys: dict[bytes, bytes], identity: SigningKey | None,
                chains: Mapping[bytes, Chain], controls: Iterable[Entry], *,
                hollow: Iterable[tuple[bytes, int, bytes]] = (), forks: dict[bytes, int] | None = None,
                fork_entries: Iterable[Entry] = ()) -> RoomLog:
    """A RoomLog over stored state; `chains` may read their stored hashes later (`crdt/chain.py`), `controls` are
    the stored control entries in the order they were held, `hollow` (author, seq, hash) of the entries held
    without content, and `fork_entries` the second entries of recorded equivocations (control ones go back in
    the graph, void)."""
    room = RoomLog(room_id, keys, identity)
    room.chains = dict(chains)
    room.entry_count = sum(len(c) for c in chains.values())
    room.forks = dict(forks or {})
    for author, chain in room.chains.items():
        room.meta[author] = AuthorMeta(len(chain))
    for e in controls:
        if e.ciphertext is None:
            continue
        ctx = frozenset((room_id,)) if is_genesis(e) else room.graph.context(e.deps)
        key = room.keys.key_for(ctx)
        if key is None or any(d not in room.graph for d in e.deps):
            continue
        try:
            plain = open_payload(key, e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
            op = parse_op(ControlOp.decode(plain[1:]))
        except DecodeError:
            continue
        room.graph.add(e.hash, e.author, e.seq, op, e.deps, e.epoch)
    for e in fork_entries:
        room._side_node(e, {})
    room.resolution = resolve(room.graph, room.forks)
    for author, seq, h in hollow:
        room.hollow.add((author, seq))
        room.hollow_hashes[h] = (author, seq)
    return room
