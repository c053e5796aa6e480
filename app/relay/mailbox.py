"""The blind mailbox as one more route for a room's entries: ours pushed into it, everyone's pulled out of it.

Per key context (a room key: `MailboxKeys.for_room_key`) a relay holds one mailbox; only holders of
that key can name it, read it or write it. An envelope holds one entry, sealed under the mailbox's
wrap key and padded by `p2p.relay.envelope`:

    plaintext = 0x01 | entry (crdt/entry.py encoding, signed by its author)

* **Push** (our own entries only: every member pushes what it wrote, so the mailbox holds each entry
  once per author and a member's history does not depend on anyone else's node). Each entry goes to
  the mailbox of the key it is encrypted under; an entry that brings a rotation (a removal, a rekey)
  goes to the new key's mailbox too, so a member who missed the rotation finds it in the mailbox it can
  still read, learns the new key from it, and then reads the new one. Entries above the relay's
  acknowledged cursor (`RelayCursors.acked`) are pushed in order; the cursor moves after each fsync'd
  acknowledgement. An envelope that was put but not acknowledged is put again byte for byte (the relay
  stores duplicates once).
* **Pull**: the mailboxes of the current key and of the newest older keys we hold, after the pulled
  cursor; what opens and decodes is ingested like entries from any peer (`Room.ingest`: the same
  validation, so an altered, replayed, forged or out-of-place entry changes nothing), fsynced, and only
  then does the cursor move; it stays before an entry that could only wait (it is held in memory
  only, so after a restart the mailbox is where it is found again), at most MAX_HOLD envelopes
  back. A new key learnt from what was pulled opens one more mailbox at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from crdt.entry import Entry, decode_one
from crdt.errors import DecodeError, RoomError
from p2p.relay import envelope
from p2p.relay.errors import RelayError

from ..errors import HubbubError
from ..room import Room
from .cursors import RelayCursors
from .keys import MailboxKeys

log = logging.getLogger(__name__)

ENTRY = b"\x01"
BACKFILL = 1000      # on first contact with a relay, at most this many of our newest entries in a room are pushed
PUSH_BATCH = 256     # entries read from the store per round
PULL_LIMIT = 500     # envelopes asked for per get
OLD_MAILBOXES = 3    # older keys whose mailboxes are still pulled (a member who missed rotations)
MAX_HOLD = 2000      # envelopes the pull cursor may stay behind an entry that waits (then it moves on)


class MailboxClient(Protocol):
    """What the route needs from a relay connection (`p2p.relay.client.RelayClient`)."""

    url: str

    async def async_put(self, auth: bytes, envelopes: list[bytes]) -> list[int]: ...

    async def async_get(self, auth: bytes, after: int, limit: int = 500) -> tuple[list[tuple[int, bytes]], int]: ...


@dataclass
class MailboxStats:
    """What one relay's mailbox route did (for `hubbub relay list`, the UI and the tests)."""

    pushed: int = 0
    pulled: int = 0
    stored: int = 0       # pulled entries that were new to us
    unreadable: int = 0   # envelopes that did not open, or held no entry (altered, or not ours)
    refused: int = 0      # pulled entries the room's validation rejected
    too_big: int = 0      # our entries too big for an envelope (they travel by sessions only)
    last_error: str = ""
    mailboxes: set[str] = field(default_factory=set)


def seal_entry(keys: MailboxKeys, entry: Entry) -> bytes:
    """One entry's envelope (ValueError when it is bigger than the biggest envelope)."""
    return envelope.seal(keys.wrap, ENTRY + entry.encode())


def open_entry(keys: MailboxKeys, sealed: bytes) -> Entry | None:
    """The entry an envelope holds, or None for one that does not open or decode (never raises)."""
    try:
        plain = envelope.open_(keys.wrap, sealed)
    except RelayError:
        return None
    if plain[:1] != ENTRY:
        return None
    try:
        return decode_one(plain[1:])
    except (DecodeError, RecursionError, ValueError):
        return None


def entry_key(room: Room, entry: Entry) -> bytes | None:
    """The key an entry is encrypted under (of its context), if we hold it."""
    graph = room.log.graph
    context = graph.context(entry.deps) if entry.deps else frozenset((room.id,))
    return room.log.keys.key_for(context)


def targets(room: Room, entry: Entry) -> list[MailboxKeys]:
    """The mailboxes an entry of ours goes to: its key's, and for a rotation also the new key's."""
    out = []
    key = entry_key(room, entry)
    if key is not None:
        out.append(MailboxKeys.for_room_key(key))
    node = room.log.graph.nodes.get(entry.hash)
    if node is not None and node.op.rotation is not None:
        new = room.log.keys.get(entry.hash)
        if new is not None and new != key:
            out.append(MailboxKeys.for_room_key(new))
    return out


def recent_keys(room: Room, count: int) -> list[bytes]:
    """The current key, then the keys of the newest older rotations we hold: `count` keys at most."""
    keys: list[bytes] = []
    current = room.log.current_key()
    if current is not None:
        keys.append(current)
    graph = room.log.graph
    older = sorted(((graph.nodes[r].rot_gen if r in graph.nodes else 0), r) for r in room.log.keys)
    for _gen, rotation in reversed(older):
        if len(keys) >= count:
            break
        key = room.log.keys.get(rotation)
        if key is not None and key not in keys:
            keys.append(key)
    return keys


def pull_set(room: Room) -> list[MailboxKeys]:
    """The mailboxes we read for a room: the current key's, then those of the newest older keys we hold."""
    return [MailboxKeys.for_room_key(k) for k in recent_keys(room, 1 + OLD_MAILBOXES)]


class MailboxRoute:
    """One relay's mailboxes for every room that uses it: push ours, pull everyone's, keep the cursors."""

    def __init__(self, client: MailboxClient, cursors: RelayCursors) -> None:
        self.client = client
        self.cursors = cursors
        self.stats = MailboxStats()
        self._sealed: dict[tuple[bytes, str], bytes] = {}  # (entry hash, mailbox) -> envelope put but not acked

    # ----- push ----------------------------------------------------------------------------------

    def unacked(self, room: Room) -> int:
        """How many of our entries in `room` this relay has not acknowledged yet."""
        head = room.log.head(room.me)
        acked = self.cursors.acked(self.client.url, room.id)
        return max(0, head - (max(-1, head - BACKFILL) if acked is None else acked))

    def _acked(self, room: Room) -> int:
        acked = self.cursors.acked(self.client.url, room.id)
        if acked is None:  # first contact: the newest BACKFILL entries, not a whole history
            acked = max(-1, room.log.head(room.me) - BACKFILL)
            self.cursors.set_acked(self.client.url, room.id, acked)
        return acked

    async def async_push(self, room: Room) -> int:
        """Put our entries above the acknowledged cursor, in order; returns how many were acknowledged.

        Raises `RelayError` (with `RelayQuotaError` and `RelayUnavailable`) when the relay refused or
        went away: what is not acknowledged stays above the cursor for the next try."""
        done = 0
        while True:
            acked = self._acked(room)
            entries = room.profile.store.author_entries(room.id, room.me, acked + 1, PUSH_BATCH)
            if not entries:
                return done
            groups = list(self._groups(room, entries))
            for group_keys, group in groups:
                sealed = [self._seal(group_keys, e) for e in group]
                kept = [s for s in sealed if s is not None]
                if kept:
                    await self.client.async_put(group_keys.auth, kept)
                    self.stats.mailboxes.add(group_keys.label)
                self.stats.pushed += len(kept)
            # Only now is every envelope of the round acknowledged; one that failed is put again with the
            # same bytes (kept in `_sealed` until here), so the relay stores it once.
            self.cursors.set_acked(self.client.url, room.id, entries[-1].seq)
            for group_keys, group in groups:
                self._forget_sealed(group_keys, group)
            done += len(entries)

    def _groups(self, room: Room, entries: list[Entry]) -> Iterator[tuple[MailboxKeys, list[Entry]]]:
        """Runs of consecutive entries bound for one mailbox, in order (a rotation's entry is a run in each)."""
        run: list[Entry] = []
        run_keys: MailboxKeys | None = None
        for entry in entries:
            boxes = targets(room, entry)
            if not boxes:
                log.warning("entry %d of ours in %s has no key we hold; it is not pushed", entry.seq, room.name)
                continue
            for box in boxes:
                if run_keys is not None and box != run_keys:
                    yield run_keys, run
                    run = []
                run_keys = box
                run.append(entry)
        if run_keys is not None and run:
            yield run_keys, run

    def _seal(self, keys: MailboxKeys, entry: Entry) -> bytes | None:
        cache = (entry.hash, keys.label)
        sealed = self._sealed.get(cache)
        if sealed is None:
            try:
                sealed = seal_entry(keys, entry)
            except ValueError:
                self.stats.too_big += 1
                log.info("entry %d is too big for the mailbox; it travels by sessions only", entry.seq)
                return None
            self._sealed[cache] = sealed
        return sealed

    def _forget_sealed(self, keys: MailboxKeys, entries: list[Entry]) -> None:
        for entry in entries:
            self._sealed.pop((entry.hash, keys.label), None)

    # ----- pull ----------------------------------------------------------------------------------

    async def async_pull(self, room: Room) -> int:
        """Fetch what the room's mailboxes hold beyond our cursors and ingest it; returns how many entries were new.

        A key learnt from what was pulled (a rotation sealed to us) adds its mailbox to this same pull."""
        new = 0
        seen: set[str] = set()
        while True:
            todo = [keys for keys in pull_set(room) if keys.label not in seen]
            if not todo:
                return new
            for keys in todo:
                seen.add(keys.label)
                new += await self._async_pull_one(room, keys)

    async def _async_pull_one(self, room: Room, keys: MailboxKeys) -> int:
        url = self.client.url
        after = self.cursors.pulled(url, keys.label)
        hold: int | None = None  # the cursor stays before the first entry that could only wait (it lives in memory)
        new = 0
        while True:
            got, last = await self.client.async_get(keys.auth, after, PULL_LIMIT)
            if last < after:
                # The relay holds less than we read from it (its data was reset): read it all again.
                log.info("the mailbox on %s was reset; reading it again", url)
                after, hold = 0, None
                self.cursors.set_pulled(url, keys.label, 0)
                continue
            if not got:
                return new
            self.stats.mailboxes.add(keys.label)
            entries: list[tuple[int, Entry]] = []
            for seq, sealed in got:
                entry = open_entry(keys, sealed)
                if entry is None:
                    self.stats.unreadable += 1
                else:
                    entries.append((seq, entry))
            self.stats.pulled += len(entries)
            added, waiting = self._ingest(room, [e for _s, e in entries])
            new += added
            first_waiting = min((seq - 1 for seq, e in entries if e.hash in waiting), default=None)
            if first_waiting is not None and (hold is None or first_waiting < hold):
                hold = first_waiting
            after = max(after, max(seq for seq, _sealed in got))  # (a relay may hand them out in any order)
            # An entry that waits (for an entry before it in its chain, or a key) is held in memory only: were the
            # node to stop now, the mailbox is where it is still found, so the durable cursor does not pass it,
            # unless it has waited behind more than MAX_HOLD envelopes (a forged one may wait for ever).
            cursor = after if hold is None or after - hold > MAX_HOLD else hold
            self.cursors.set_pulled(url, keys.label, cursor)
            if after >= last:
                return new

    def _ingest(self, room: Room, entries: list[Entry]) -> tuple[int, set[bytes]]:
        """Ingest what was pulled; returns how many entries were new, and the hashes of those that could only wait."""
        if not entries:
            return 0, set()
        try:
            result = room.ingest(entries, durable=True, origin=None)  # fsynced before the cursor moves
        except (HubbubError, RoomError) as exc:
            raise HubbubError(f"Entries from the mailbox could not be stored: {exc}") from exc
        self.stats.refused += len(result.rejected)
        self.stats.stored += len(result.accepted)
        rejected = {e.hash for e, _why in result.rejected} | {eq.second.hash for eq in result.equivocations}
        waiting = {e.hash for e in entries if e.hash not in rejected and room.log.hash_at(e.author, e.seq) != e.hash}
        return len(result.accepted), waiting
