"""A room as the node uses it: the validated log, its view and its storage, with the operations a member performs.

`Room` opens and creates rooms, ingests entries (stored before anyone hears of them), checks keys
offered from outside the log, saves snapshots and purges expired content. Its reads are in
app/room_reads.py, the local write path in app/room_writes.py, and the operations on top of it in
app/room_messages.py (messages) and app/room_admin.py (channels, settings, members, invites).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Protocol

from crdt.chain import Chain
from crdt.cipher import new_room_key, open_payload
from crdt.content import VALID
from crdt.docsync import apply_updates
from crdt.entry import Entry
from crdt.errors import DecodeError, StoreError
from crdt.restore import restore_log
from crdt.room import KIND_DELETE_ONLY, IngestResult, RoomLog, genesis_entry
from crdt.schema import EDITS, client_id, split_eid
from crdt.store_open import chain_hashes, chain_heads, controls_and_hollow
from crdt.yjs_update import encode_delete_update

from .errors import HubbubError, RoomNotFound, as_sentence
from .profile import Profile
from .room_admin import RoomAdmin
from .room_messages import HIDDEN_CHANNELS, RoomMessages
from .room_reads import MemberInfo, now_ms, slug

__all__ = ["HIDDEN_CHANNELS", "ContentWatcher", "Listener", "MemberInfo", "Room", "now_ms", "slug"]

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 2000     # entries after which an idle moment saves a snapshot (`snapshot_if_due`)
SNAPSHOT_FORCED = 50_000  # entries after which one is saved at once, busy or not


Listener = Callable[["Room", list[Entry]], None]


class ContentWatcher(Protocol):
    """Hears, after they are stored, what an ingest changed in the view, and which messages were purged (app/search)."""

    def changed(self, room: Room, result: IngestResult) -> None: ...

    def purged(self, room: Room, message_ids: set[str]) -> None: ...


class Room(RoomMessages, RoomAdmin):
    """One room of one profile."""

    def __init__(self, profile: Profile, log_: RoomLog, name: str) -> None:
        self.profile = profile
        self.log = log_
        self.view = log_.view()
        self.stored_name = name
        self.listeners: list[Listener] = []
        self.watchers: list[ContentWatcher] = []  # told what each stored ingest changed, and what was purged
        self._since_snapshot = 0
        self._last_write = 0.0
        self._batch: IngestResult | None = None
        self._purged: set[str] = set()
        self._candidates: dict[bytes, bytes] = {}  # keys offered by a grant or a file, not yet checked
        self._rekeying = False
        self._attach(log_)

    def _attach(self, log_: RoomLog) -> None:
        """Point the log's loaders at this profile's store (older entries are read on demand)."""
        store = self.profile.store
        log_.identity = self.profile.identity
        log_.updates = None
        log_.cid_loader = lambda: store.entry_kinds(self.id)
        log_.meta_loader = lambda author, below: store.entry_meta(self.id, author, below)
        log_.payload_loader = self._payloads

    def _payloads(self, author: bytes, seqs: list[int]) -> dict[int, bytes]:
        """Decrypted updates of stored entries (for an entry that became valid, or a rebuild)."""
        out: dict[int, bytes] = {}
        for e in self.profile.store.entries_at(self.id, author, seqs):
            if e.ciphertext is None:
                continue
            key = self.log.keys.key_for(self.log.graph.context(e.deps)) if e.deps else self.log.keys.get(self.id)
            if key is None:
                continue
            try:
                out[e.seq] = open_payload(key, e.nonce, e.ciphertext, self.id, e.author, e.seq, e.epoch)[1:]
            except DecodeError:
                continue
        return out

    # ----- opening -----------------------------------------------------------------------

    @classmethod
    def create(cls, profile: Profile, name: str) -> Room:
        name = name.strip()
        if not name:
            raise HubbubError("A room needs a name.")
        if len(name) > 100:
            raise HubbubError("A room name can be at most 100 characters.")
        key = new_room_key()
        genesis = genesis_entry(profile.identity, key, name, profile.display_name)
        room_log = RoomLog(genesis.hash, {genesis.hash: key}, profile.identity)
        result = room_log.ingest([genesis])
        profile.store.add_room(genesis.hash, name, {genesis.hash: key})
        profile.store.append(genesis.hash, result.accepted, result.kinds, needs=result.needs, flags=result.flags)
        room = cls(profile, room_log, name)
        room.create_channel("general", "text")
        room.create_channel("Lounge", "voice")
        return room

    @classmethod
    def open(cls, profile: Profile, room_id: bytes) -> Room:
        store = profile.store
        names = dict(store.rooms())
        if room_id not in names:
            raise RoomNotFound("There is no such room in this profile.")
        keys = store.keys(room_id)
        controls, hollow = controls_and_hollow(store, room_id)
        chains = {author: Chain(stored=seq + 1, last=h, loader=partial(chain_hashes, store, room_id, author))
                  for author, (seq, h) in chain_heads(store, room_id).items()}  # older hashes read when needed
        room_log = restore_log(room_id, keys, profile.identity, chains, controls, hollow=hollow,
                               forks=store.forks(room_id), fork_entries=store.fork_entries(room_id))
        snap = store.snapshot(room_id)
        stale = store.snapshot_stale(room_id)
        upto = 0
        if snap is not None and not stale:
            upto, state = snap
            room_log.doc.apply_update(state)
        later = store.entries_where(room_id, "e.n>? AND e.kind<=? AND (e.flags & ?)", (upto, KIND_DELETE_ONLY, VALID))
        updates = []
        for e in later:
            if e.ciphertext is None:
                continue
            key = room_log.keys.key_for(room_log.graph.context(e.deps))
            if key is None:
                continue
            plain = open_payload(key, e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
            updates.append(plain[1:])
        if updates:
            apply_updates(room_log.doc, updates)
        room = cls(profile, room_log, names[room_id])
        room._since_snapshot = len(later)
        if stale:  # entries changed standing after the snapshot was saved: it shows the older state
            room.snapshot()
        return room

    # ----- ingest (remote and local) -----------------------------------------------------------

    def ingest(self, entries: Iterable[Entry], *, durable: bool = True, origin: object = None) -> IngestResult:
        """Check, store, then apply and announce entries; the store is written before anyone hears of them.

        With `durable=False` the entries are committed but not yet fsynced when the
        listeners hear of them (see `Store.append`); whoever passes them on must wait
        for `Store.sync` first, as `NodeService` does.
        """
        result = self.log.ingest(entries, origin)
        self._persist(result, durable)
        for eq in result.equivocations:
            self.profile.store.record_equivocation(self.id, eq.author, eq.seq, eq.first_hash, eq.second.encode())
        if result.accepted:
            for listener in list(self.listeners):
                try:
                    listener(self, result.accepted)
                except Exception:  # a listener's bug must not undo a stored entry
                    log.exception("room listener failed")
        if self._candidates and (result.control_changed or result.accepted):
            self._adopt_candidates(durable)
        return result

    # ----- keys from outside the log -------------------------------------------------------------

    def offer_keys(self, keys: dict[bytes, bytes], *, durable: bool = True) -> int:
        """Keys from a grant or a log file. A key is kept only once it is shown to be its rotation's (it
        matches the rotation's commitment; the genesis key decrypts the genesis): never in place of one
        held, and never unchecked, so no grant or file can make a room unreadable. Returns how many were kept."""
        self._candidates.update({r: k for r, k in keys.items() if r not in self.log.keys and len(k) == 32})
        return self._adopt_candidates(durable)

    def _key_checks_out(self, rotation: bytes, key: bytes) -> bool | None:
        if rotation != self.id:
            return self.log.key_matches(rotation, key)
        owner = self.log.state().owner or next((a for a, c in self.log.chains.items() if c and c[0] == self.id), None)
        genesis = self.profile.store.entries_at(self.id, owner, [0]) if owner else []
        if not genesis or genesis[0].ciphertext is None:
            return None
        g = genesis[0]
        try:
            open_payload(key, g.nonce, g.ciphertext, g.room_id, g.author, g.seq, g.epoch)  # type: ignore[arg-type]
        except DecodeError:
            return False
        return True

    def _adopt_candidates(self, durable: bool = True) -> int:
        kept = 0
        progress = True
        while progress and self._candidates:
            progress = False
            for rotation, key in list(self._candidates.items()):
                verdict = self._key_checks_out(rotation, key)
                if verdict is None:
                    continue
                del self._candidates[rotation]
                if not verdict:
                    log.warning("a key offered for %s does not match its rotation; dropped", self.name)
                    continue
                if self.log.add_key(rotation, key):
                    self.profile.store.set_key(self.id, rotation, key)
                    kept += 1
                    progress = True
                    waiting = [e for e, _origin in self.log.pending.wake(("key", rotation))]
                    if waiting:
                        self.ingest(waiting, durable=durable)
        return kept

    # ----- storage, snapshots and erasure -------------------------------------------------------

    def _persist(self, result: IngestResult, durable: bool = True) -> None:
        store = self.profile.store
        for rotation, key in result.new_keys:
            store.set_key(self.id, rotation, key)
        if result.repaired:
            store.fill_payload(self.id, result.repaired)
        if not result.accepted:
            if result.flipped:
                store.set_flags(self.id, result.flipped)
                self.snapshot()
                self._tell_watchers(result)
            return
        try:
            store.append(self.id, result.accepted, result.kinds, durable=durable, needs=result.needs,
                         flags=result.flags, flipped=result.flipped)
        except StoreError:
            # Nothing was written: forget the in-memory effect by reopening from disk.
            fresh = Room.open(self.profile, self.id)
            self.log, self.view = fresh.log, fresh.view
            self._attach(self.log)
            raise
        self._since_snapshot += len(result.accepted)
        self._last_write = time.monotonic()
        if result.flipped or result.rebuilt or self._since_snapshot >= SNAPSHOT_FORCED:
            self.snapshot()
        self._tell_watchers(result)

    def _tell_watchers(self, result: IngestResult, purged: set[str] | None = None) -> None:
        for watcher in list(self.watchers):
            try:
                if purged is None:
                    watcher.changed(self, result)
                else:
                    watcher.purged(self, purged)
            except Exception:  # a watcher's bug must not undo a stored entry
                log.exception("room watcher failed")

    def _store_and_announce(self, result: IngestResult) -> None:
        try:
            self._persist(result)
        except StoreError as exc:  # e.g. a full disk: nothing was saved, and nobody hears of it
            raise HubbubError(as_sentence(str(exc))) from exc
        for listener in list(self.listeners):
            try:
                listener(self, result.accepted)
            except Exception:
                log.exception("room listener failed")

    def snapshot_if_due(self, idle_seconds: float = 2.0) -> bool:
        """Save a snapshot when enough entries arrived since the last one and the room has been quiet.

        Encoding a large document takes tens of milliseconds, so it is kept off the
        path of a message being stored and shown.
        """
        if self._since_snapshot < SNAPSHOT_EVERY or time.monotonic() - self._last_write < idle_seconds:
            return False
        self.snapshot()
        self.profile.store.checkpoint()
        return True

    def snapshot(self) -> None:
        """Save the view so the room opens without replaying its log."""
        upto = self.profile.store.max_n(self.id)
        self.profile.store.save_snapshot(self.id, upto, self.log.doc.get_update())
        self._since_snapshot = 0

    def purge_expired(self) -> int:
        """Remove the content of expired and deleted messages (and of their edits) from this node, in every
        file of the profile: the entries' ciphertext, the document and its snapshot, the database's free
        pages (secure_delete) and the write-ahead log (checkpointed). Returns how many messages.

        The signed headers stay, so the authors' chains still verify.
        """
        expired = set(self.view.newly_expired(now_ms()))
        targets = (expired | set(self.view.newly_deleted())) - self._purged
        if not targets:
            return 0
        local_deletes = []
        count = 0
        for key in targets:
            edits = list(self.view._tables.get(EDITS, {}).get(key, ()))
            for eid_ in [key, *edits]:
                parts = split_eid(eid_)
                author = self._author_of(parts[0]) if parts else None
                if parts is None or author is None:
                    continue
                self.profile.store.redact(self.id, author, parts[1])
                if key in expired:
                    local_deletes.append((client_id(parts[0], parts[1]), 0, 1))
            self._purged.add(key)
            count += 1
        if local_deletes:
            apply_updates(self.log.doc, [encode_delete_update(local_deletes)])
        self._tell_watchers(IngestResult(), purged=targets)  # e.g. the search index drops and erases them too
        self.snapshot()  # the old snapshot held the text; secure_delete zeroes the pages it leaves
        self.profile.store.checkpoint_truncate()
        return count
