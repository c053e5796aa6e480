"""The sans-IO core of one room: it validates entries, keeps the chains and control state, and updates the view.

`RoomLog` never touches a disk or a socket. Entries go in through `ingest`, which
sorts them into accepted, pending (waiting for something they depend on) and
rejected (with the reason), and applies the accepted ones to the pycrdt view in
one merged update. Local writes are made with `write_*` and go through the same
validation as anyone else's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey
from pycrdt import Doc, Map

from .cipher import new_nonce, open_payload, seal_payload
from .control import ControlOp, ControlState, apply_op
from .entry import NO_HASH, Entry, sign_entry
from .errors import DecodeError, InvalidEntry, NotAMember, PermissionDenied
from .view import RoomView
from .schema import ADMIN_ROOTS, ROOTS, Role, b36, client_id, eid, required_role, short_id, split_eid, value_problem
from .yjs_update import InsertedItem, UpdateSummary, encode_delete_update, encode_insert_update, summarize_update

log = logging.getLogger(__name__)

KIND_YJS = 0
KIND_CONTROL = 1
# What an accepted entry is, as stored: 0..6 the root (schema.ROOTS) its value went to, or one of these.
KIND_DELETE_ONLY = 7
KIND_CONTROL_ROW = 8
KIND_REDACTED = 9
MAX_PENDING = 500_000


@dataclass(frozen=True, slots=True)
class Equivocation:
    """Proof that `author` signed two different entries with the same sequence number."""

    author: bytes
    seq: int
    first_hash: bytes
    second: Entry


@dataclass(slots=True)
class IngestResult:
    """What one `ingest` call did."""

    accepted: list[Entry] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)  # per accepted entry: see `entry_kind`
    rejected: list[tuple[Entry, str]] = field(default_factory=list)
    duplicates: int = 0
    equivocations: list[Equivocation] = field(default_factory=list)
    control_changed: bool = False
    hollowed: int = 0
    repaired: list[Entry] = field(default_factory=list)  # hollow entries whose genuine content arrived
    inserts: list[InsertedItem] = field(default_factory=list)  # values the applied updates inserted
    removed: list[tuple[str, str, Any]] = field(default_factory=list)  # (root, key, value before) of deleted values


def _reject(result: IngestResult, e: Entry, reason: str) -> None:
    log.info("rejected entry %s/%d: %s", e.author.hex()[:12], e.seq, reason)
    result.rejected.append((e, reason))


@dataclass(frozen=True, slots=True)
class _Control:
    author: bytes
    seq: int
    op: ControlOp
    deps: tuple[bytes, ...]


class _Pending(Exception):
    """An entry that depends on something not yet known."""


def apply_updates(doc: Doc[Any], updates: list[bytes]) -> None:
    """Apply validated Yjs updates in one transaction (far cheaper than merging them first)."""
    with doc.transaction():
        for update in updates:
            try:
                doc.apply_update(update)
            except BaseException as exc:  # pycrdt's Rust panics are not Exceptions
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                log.error("a validated update failed to apply: %s", exc)


def _is_genesis(entry: Entry) -> bool:
    return entry.seq == 0 and entry.room_id == NO_HASH and not entry.deps


class RoomLog:
    """One room's log index, control state and view, without I/O."""

    def __init__(self, room_id: bytes, keys: dict[int, bytes]) -> None:
        self.room_id = room_id
        self.keys = dict(keys)
        self.chains: dict[bytes, list[bytes]] = {}
        self.controls: dict[bytes, _Control] = {}
        self.frontier: set[bytes] = set()
        self._state_cache: dict[frozenset[bytes], ControlState] = {}
        self._state_by_deps: dict[tuple[bytes, ...], ControlState] = {}
        self._shorts: dict[bytes, str] = {}
        self._signed_here: set[bytes] = set()
        self._known_deps: tuple[bytes, ...] = ()  # the last dependency list found complete
        self.cid_owner: dict[int, tuple[bytes, str, str]] = {}  # Yjs client id -> (author, root, key)
        self.cid_loader: Callable[[], Iterable[tuple[bytes, int, int]]] | None = None
        self.pending: dict[tuple[bytes, int], Entry] = {}
        self.revoked: dict[bytes, int] = {}
        self.hollow: set[tuple[bytes, int]] = set()  # linked entries held without content
        self.doc: Doc[Any] = Doc()
        self.maps: dict[str, Map[Any]] = {root: self.doc.get(root, type=Map) for root in ROOTS}
        self.entry_count = 0
        self.views: list[RoomView] = []

    # ----- reading state -----------------------------------------------------------

    def view(self) -> RoomView:
        """A read model of this room that stays current as entries are ingested."""
        v = RoomView(self.doc, self.revoked_shorts())
        self.views.append(v)
        return v

    def _notify_views(self, result: IngestResult, revoked_before: dict[bytes, int]) -> None:
        revoked_changed = self.revoked != revoked_before
        for v in self.views:
            if revoked_changed:
                v.revoked = self.revoked_shorts()
            v.apply_changes(result.inserts, result.removed)
            if revoked_changed:
                v.rebuild_children()

    def head(self, author: bytes) -> int:
        """The highest contiguous sequence number held for `author`, or -1."""
        return len(self.chains.get(author, ())) - 1

    def heads(self) -> dict[bytes, int]:
        return {a: len(c) - 1 for a, c in self.chains.items()}

    def state(self) -> ControlState:
        """Control state at the current frontier."""
        return self._state_at(tuple(self.frontier))

    def revoked_shorts(self) -> dict[str, int]:
        return {short_id(a): s for a, s in self.revoked.items()}

    # ----- control state --------------------------------------------------------------

    def _closure(self, deps: Iterable[bytes]) -> set[bytes]:
        seen: set[bytes] = set()
        stack = list(deps)
        while stack:
            h = stack.pop()
            if h in seen:
                continue
            seen.add(h)
            stack.extend(self.controls[h].deps)
        return seen

    def _state_at(self, deps: tuple[bytes, ...]) -> ControlState:
        cached = self._state_by_deps.get(deps)
        if cached is not None:
            return cached
        key = frozenset(deps)
        cached = self._state_cache.get(key)
        if cached is not None:
            self._state_by_deps[deps] = cached
            return cached
        nodes = self._closure(deps)
        # Deterministic topological order: Kahn's algorithm, ties broken by hash.
        indegree = {h: sum(1 for d in self.controls[h].deps if d in nodes) for h in nodes}
        children: dict[bytes, list[bytes]] = {h: [] for h in nodes}
        for h in nodes:
            for d in self.controls[h].deps:
                children[d].append(h)
        ready = sorted(h for h, n in indegree.items() if n == 0)
        state = ControlState()
        while ready:
            h = ready.pop(0)
            c = self.controls[h]
            try:
                state = apply_op(state, c.author, c.seq, c.op, None)
            except DecodeError:
                pass  # valid when first accepted; a concurrent op may have superseded it
            for child in children[h]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
            ready.sort()
        if len(self._state_cache) > 4096:
            self._state_cache.clear()
            self._state_by_deps.clear()
        self._state_cache[key] = state
        self._state_by_deps[deps] = state
        return state

    # ----- ingest ---------------------------------------------------------------------

    def ingest(self, entries: Iterable[Entry]) -> IngestResult:
        """Validate and apply entries from anywhere; never raises for bad input."""
        result = IngestResult()
        revoked_before = dict(self.revoked)
        by_author: dict[bytes, dict[int, Entry]] = {}
        for e in entries:
            if e.room_id != self.room_id and not _is_genesis(e):
                _reject(result, e, "entry belongs to another room")
                continue
            chain = self.chains.get(e.author)
            if chain is not None and e.seq < len(chain):
                if chain[e.seq] == e.hash:
                    if (e.author, e.seq) in self.hollow and e.ciphertext is not None and e.payload_intact():
                        self._repair(e, result)
                    else:
                        result.duplicates += 1
                elif e.signature_valid():
                    log.warning("author %s equivocated at %d: two signed entries with one sequence number", e.author.hex()[:12], e.seq)
                    result.equivocations.append(Equivocation(e.author, e.seq, chain[e.seq], e))
                    self._revoke(e.author, e.seq - 1)
                    _reject(result, e, "author equivocated: two entries with one sequence number")
                else:
                    _reject(result, e, "signature does not verify")
                continue
            if not e.payload_intact():
                # The signed header still links the author's chain; only this entry's content is lost,
                # until a genuine copy arrives (see _repair).
                _reject(result, e, "payload does not match its signed hash (tampered); kept as an empty link")
                result.hollowed += 1
                e = e.without_payload()
            slot = by_author.setdefault(e.author, {})
            if e.seq in slot and slot[e.seq].hash != e.hash:
                if e.signature_valid() and slot[e.seq].signature_valid():
                    log.warning("author %s equivocated at %d: two signed entries with one sequence number", e.author.hex()[:12], e.seq)
                    result.equivocations.append(Equivocation(e.author, e.seq, slot[e.seq].hash, e))
                    self._revoke(e.author, e.seq - 1)
                _reject(result, e, "author equivocated: two entries with one sequence number")
                continue
            if e.seq in slot and slot[e.seq].ciphertext is None and e.ciphertext is not None:
                slot[e.seq] = e  # prefer the copy that carries content
                continue
            slot.setdefault(e.seq, e)
        for (author, seq), e in list(self.pending.items()):
            by_author.setdefault(author, {}).setdefault(seq, e)
        self.pending.clear()
        self._process(by_author, result)
        if result.inserts or result.removed or self.revoked != revoked_before:
            self._notify_views(result, revoked_before)
        return result

    def _process(self, by_author: dict[bytes, dict[int, Entry]], result: IngestResult) -> None:
        updates: list[bytes] = []
        progress = True
        while progress and by_author:
            progress = False
            for author in list(by_author):
                slot = by_author[author]
                run = self._contiguous_run(author, slot)
                if not run:
                    continue
                trusted = self._authenticate_run(run, result)
                for e in run:
                    del slot[e.seq]
                for e in run[: len(trusted)]:
                    try:
                        self._accept(e, updates, result)
                    except _Pending:
                        # Keep this entry and all later ones from the author for later.
                        for later in run[run.index(e):]:
                            slot[later.seq] = later
                        break
                    except (InvalidEntry, DecodeError) as exc:
                        reason = exc.reason if isinstance(exc, InvalidEntry) else str(exc)
                        _reject(result, e, reason)
                        for later in run[run.index(e) + 1 :]:
                            _reject(result, later, "chains to a rejected entry")
                        break
                    progress = True
                else:
                    if len(trusted) < len(run):
                        for later in run[len(trusted) + 1 :]:
                            _reject(result, later, "chains to a rejected entry")
                if not slot:
                    del by_author[author]
        for author, slot in by_author.items():
            for seq, e in slot.items():
                if len(self.pending) < MAX_PENDING:
                    self.pending[(author, seq)] = e
        if updates:
            self._capture_removed(result)
            apply_updates(self.doc, updates)

    def _capture_removed(self, result: IngestResult) -> None:
        """Fill in the values that deleted keys held, before the updates remove them."""
        if not result.removed:
            return
        batch = {(i.root, i.key): i.value for i in result.inserts}
        result.removed = [(root, key, batch.get((root, key), self.maps[root].get(key))) for root, key, _ in result.removed]

    def _contiguous_run(self, author: bytes, slot: dict[int, Entry]) -> list[Entry]:
        seq = self.head(author) + 1
        prev = self.chains[author][-1] if author in self.chains else NO_HASH
        run: list[Entry] = []
        while seq in slot:
            e = slot[seq]
            if e.prev != prev:
                break
            run.append(e)
            prev = e.hash
            seq += 1
        return run

    def _authenticate_run(self, run: list[Entry], result: IngestResult) -> list[Entry]:
        """The prefix of `run` that the author's signature vouches for.

        Each entry holds the hash of the one before, so a valid signature on the
        last entry of a linked run authenticates the whole run.
        """
        if run[-1].hash in self._signed_here or run[-1].signature_valid():
            return run
        good: list[Entry] = []
        for e in run:
            if not e.signature_valid():
                _reject(result, e, "signature does not verify")
                return good
            good.append(e)
        return good

    def _accept(self, e: Entry, updates: list[bytes], result: IngestResult, repair: bool = False) -> None:
        """Validate one entry that extends its author's chain; link and apply it (or, for `repair`, only apply)."""
        deps = e.deps
        genesis = not deps and e.seq == 0 and e.room_id == NO_HASH
        if self.revoked:
            limit = self.revoked.get(e.author)
            if limit is not None and e.seq > limit:
                raise InvalidEntry("author is not a member from this entry on: removed, or caught equivocating")
        if not genesis:
            if deps != self._known_deps:  # consecutive entries mostly share their dependencies
                for d in deps:
                    if d not in self.controls:
                        raise _Pending()
                self._known_deps = deps
        elif e.hash != self.room_id:
            raise InvalidEntry("genesis of another room")
        state = self._state_at(deps)
        if e.ciphertext is None:
            # A redacted (expired) entry: it links the chain and carries nothing.
            if not genesis and state.role_of(e.author, e.seq) is None:
                raise InvalidEntry("author is not a member")
            self.hollow.add((e.author, e.seq))
            self._link(e, result, KIND_REDACTED)
            return
        key = self.keys.get(e.epoch)
        if key is None:
            raise _Pending()
        if not genesis and e.epoch != state.epoch:
            raise InvalidEntry("entry uses a stale or future key epoch")
        plain = open_payload(key, e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
        if not plain:
            raise InvalidEntry("empty payload")
        kind, body = plain[0], plain[1:]
        if kind == KIND_CONTROL:
            op = ControlOp.decode(body)
            if genesis != (op.op == "genesis"):
                raise InvalidEntry("genesis must be the first entry of a room and only that")
            try:
                apply_op(state, e.author, e.seq, op, None)
            except DecodeError as exc:
                raise InvalidEntry(str(exc)) from exc
            h = e.hash
            self.controls[h] = _Control(e.author, e.seq, op, e.deps)
            self.frontier -= set(e.deps)
            self.frontier.add(h)
            result.control_changed = True
            if op.op == "remove" and isinstance(op.args.get("after_seq"), int):
                member = bytes.fromhex(op.args["member"])
                self._revoke(member, op.args["after_seq"])
            self._finish(e, result, KIND_CONTROL_ROW, repair)
            return
        if kind != KIND_YJS or genesis:
            raise InvalidEntry("unknown payload kind")
        role = state.role_of(e.author, e.seq)
        if role is None:
            raise InvalidEntry("author is not a member")
        summary = summarize_update(body)
        self._check_update(e, role, summary)
        kind_row = KIND_DELETE_ONLY
        for item in summary.inserts:
            self.cid_owner[item.client] = (e.author, item.root, item.key)
            kind_row = ROOTS.index(item.root)
        updates.append(body)
        result.inserts.extend(summary.inserts)
        for client, _clock, _length in summary.deletes:
            _owner, removed_root, removed_key = self.cid_owner[client]
            result.removed.append((removed_root, removed_key, None))
        self._finish(e, result, kind_row, repair)

    def _check_update(self, e: Entry, role: Role, summary: UpdateSummary) -> None:
        writer = self._shorts.get(e.author)
        if writer is None:
            writer = self._shorts[e.author] = short_id(e.author)
        expected_key = writer + b36(e.seq)
        expected_client = client_id(writer, e.seq)
        if len(summary.inserts) > 1:
            raise InvalidEntry("an entry may insert one value")
        for item in summary.inserts:
            if item.client != expected_client or item.clock != 0:
                raise InvalidEntry("update uses a Yjs client id the author does not own")
            if item.key != expected_key:
                raise InvalidEntry("update writes under a key that is not its own")
            if item.root not in ROOTS:
                raise InvalidEntry(f"update writes to unknown root {item.root!r}")
            problem = value_problem(item.root, item.value)
            if problem:
                raise InvalidEntry(problem)
            needed = required_role(item.root, item.value, writer)
            if role < needed:
                raise InvalidEntry(f"{_ROOT_NAMES[item.root]} needs the {needed.name.lower()} role")
        if summary.deletes and self.cid_loader is not None:
            self._load_cids()
        for client, _clock, _length in summary.deletes:
            owner = self.cid_owner.get(client)
            if owner is None:
                raise _Pending()
            author, root, _key = owner
            if author == e.author:
                continue
            needed = Role.ADMIN if root in ADMIN_ROOTS else Role.MODERATOR
            if role < needed:
                raise InvalidEntry(f"removing another member's {_ROOT_NAMES[root]} needs the {needed.name.lower()} role")

    def _finish(self, e: Entry, result: IngestResult, kind: int, repair: bool) -> None:
        if repair:
            self.hollow.discard((e.author, e.seq))
            result.repaired.append(e)
        else:
            self._link(e, result, kind)

    def _repair(self, e: Entry, result: IngestResult) -> None:
        """A genuine copy of an entry we hold hollow: validate and apply its content now."""
        updates: list[bytes] = []
        try:
            self._accept(e, updates, result, repair=True)
        except (_Pending, InvalidEntry, DecodeError) as exc:
            log.info("could not restore entry %s/%d: %s", e.author.hex()[:12], e.seq, exc)
            return
        if updates:
            self._capture_removed(result)
            apply_updates(self.doc, updates)

    def _load_cids(self) -> None:
        """Fill the client-id index from stored (author, seq, kind) rows the first time a delete needs it."""
        loader, self.cid_loader = self.cid_loader, None
        assert loader is not None
        for author, seq, kind in loader():
            if 0 <= kind < len(ROOTS):
                self.cid_owner[client_id(short_id(author), seq)] = (author, ROOTS[kind], eid(author, seq))

    def _link(self, e: Entry, result: IngestResult, kind: int) -> None:
        self.chains.setdefault(e.author, []).append(e.hash)
        self.entry_count += 1
        result.accepted.append(e)
        result.kinds.append(kind)

    def _revoke(self, author: bytes, last_seq: int) -> None:
        current = self.revoked.get(author)
        if current is None or last_seq < current:
            self.revoked[author] = last_seq

    # ----- writing --------------------------------------------------------------------

    def _next_entry(self, identity: SigningKey, kind: int, body: bytes) -> Entry:
        author = bytes(identity.verify_key)
        seq = self.head(author) + 1
        prev = self.chains[author][-1] if seq > 0 else NO_HASH
        state = self.state()
        epoch = state.epoch
        key = self.keys.get(epoch)
        if key is None:
            raise NotAMember("this node does not hold the room's current key")
        nonce = new_nonce()
        ct = seal_payload(key, nonce, bytes((kind,)) + body, self.room_id, author, seq, epoch)
        deps = tuple(sorted(self.frontier))
        entry = sign_entry(identity, room_id=self.room_id, seq=seq, prev=prev, epoch=epoch, deps=deps, nonce=nonce, ciphertext=ct)
        self._signed_here.add(entry.hash)  # we just signed it: no need to verify our own signature
        return entry

    def _commit_local(self, entry: Entry) -> IngestResult:
        try:
            result = self.ingest([entry])
        finally:
            self._signed_here.discard(entry.hash)
        if result.rejected:
            reason = result.rejected[0][1]
            if "not a member" in reason:
                raise NotAMember("you are not a member of this room")
            raise PermissionDenied(reason)
        if not result.accepted:
            raise NotAMember("this node cannot write to this room yet")
        return result

    def write_control(self, identity: SigningKey, op: ControlOp) -> IngestResult:
        """Sign, validate and apply a control operation by the local member."""
        return self._commit_local(self._next_entry(identity, KIND_CONTROL, op.encode()))

    def write_value(self, identity: SigningKey, root: str, value: dict[str, Any], delete: Iterable[str] = ()) -> tuple[str, IngestResult]:
        """Insert `value` under `root` (and delete the items written by the eids in `delete`)."""
        author = bytes(identity.verify_key)
        seq = self.head(author) + 1
        writer = self._shorts.get(author)
        if writer is None:
            writer = self._shorts[author] = short_id(author)
        key = writer + b36(seq)
        try:
            update = encode_insert_update(client_id(writer, seq), root, key, value, _delete_ranges(delete))
        except ValueError as exc:
            raise PermissionDenied(str(exc)) from exc
        return key, self._commit_local(self._next_entry(identity, KIND_YJS, update))

    def write_deletes(self, identity: SigningKey, targets: Iterable[str]) -> IngestResult:
        """Remove the items written by the given eids (e.g. take back a reaction)."""
        ranges = _delete_ranges(targets)
        if not ranges:
            raise PermissionDenied("nothing to remove")
        return self._commit_local(self._next_entry(identity, KIND_YJS, encode_delete_update(ranges)))


def _delete_ranges(eids: Iterable[str]) -> list[tuple[int, int, int]]:
    """The Yjs id ranges of the items written by the entries `eids` name (each wrote one item)."""
    ranges = []
    for target in eids:
        parts = split_eid(target)
        if parts is not None:
            ranges.append((client_id(parts[0], parts[1]), 0, 1))
    return ranges


_ROOT_NAMES = {
    "m": "messages",
    "e": "edits",
    "x": "deletions",
    "r": "reactions",
    "p": "pins",
    "c": "channels",
    "s": "room settings",
}


def genesis_entry(identity: SigningKey, room_key: bytes, name: str, member_name: str = "") -> Entry:
    """The signed first entry of a new room; the room id is its hash."""
    op = ControlOp("genesis", {"name": name, "member_name": member_name, "nonce": new_nonce().hex()})
    nonce = new_nonce()
    author = bytes(identity.verify_key)
    ct = seal_payload(room_key, nonce, bytes((KIND_CONTROL,)) + op.encode(), NO_HASH, author, 0, 0)
    return sign_entry(identity, room_id=NO_HASH, seq=0, prev=NO_HASH, epoch=0, deps=(), nonce=nonce, ciphertext=ct)


def restore_log(room_id: bytes, keys: dict[int, bytes], chains: dict[bytes, list[bytes]], controls: list[Entry],
                revoked: dict[bytes, int], hollow: set[tuple[bytes, int]] | None = None) -> RoomLog:
    """A RoomLog rebuilt from already-validated stored state, without re-validating every entry."""
    room = RoomLog(room_id, keys)
    room.chains = {a: list(h) for a, h in chains.items()}
    room.entry_count = sum(len(h) for h in chains.values())
    for e in sorted(controls, key=lambda c: (c.seq, c.author)):
        if e.ciphertext is None or e.epoch not in keys:
            continue
        plain = open_payload(keys[e.epoch], e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
        op = ControlOp.decode(plain[1:])
        h = e.hash
        room.controls[h] = _Control(e.author, e.seq, op, e.deps)
    referenced = {d for c in room.controls.values() for d in c.deps}
    room.frontier = set(room.controls) - referenced
    room.revoked = dict(revoked)
    room.hollow = set(hollow or ())
    return room
