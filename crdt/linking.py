"""Linking entries into their authors' chains: the checks that do not depend on authority, and the waits.

An entry is linked once it extends its author's chain, names control entries that are
held, decrypts under the key of its context, parses, and passes the shape checks; it
then is held whether or not its author had the authority (`crdt/judging.py` decides
that). Anything it still needs makes it wait in the pending pool; anything broken
rejects it and whatever chains to it.
"""

from __future__ import annotations

import heapq

from .chain import Chain
from .cipher import open_payload, open_sealed
from .content import CONTROL, HOLLOW, ContentCheck, UnknownItem, check_content
from .control import ControlOp, key_commitment, member_of, parse_op
from .entry import NO_HASH, Entry
from .errors import DecodeError, InvalidEntry
from .native import fast_check_message
from .meta import AuthorMeta
from .pending import WaitKey
from .roomstate import RoomState
from .roomtypes import DepsInfo, Equivocation, IngestResult, Staged, Wait, check_time, is_genesis, log, reject
from .schema import ROOTS, client_id, eid
from .yjs_update import summarize_update

KIND_YJS = 0
KIND_CONTROL = 1
KIND_CONTROL_ROW = 8
KIND_REDACTED = 9
FUTURE_SLACK_MS = 120_000.0  # an entry stamped further than this in our future waits
VOID_CAP = 512               # void entries kept per author who is not a member at all

Work = dict[bytes, dict[int, tuple[Entry, object]]]


class Linking(RoomState):
    """The linking half of `RoomLog`."""

    def _sort_in(self, e: Entry, origin: object, work: dict[bytes, dict[int, tuple[Entry, object]]],
                 result: IngestResult) -> None:
        if e.room_id != self.room_id and not is_genesis(e):
            reject(result, e, "entry belongs to another room")
            return
        chain = self.chains.get(e.author)
        if chain is not None and e.seq < len(chain.hashes):
            if chain[e.seq] != e.hash:
                self._conflict(e, chain[e.seq], result, work)
            elif e.ciphertext is not None and e.payload_intact() and (
                    (e.author, e.seq) in self.tampered or e.hash in self.wanted_hashes):
                work.setdefault(e.author, {})[-1 - e.seq] = (e, origin)  # a repair: negative slots, see _link_all
            else:
                result.duplicates += 1
            return
        if not e.payload_intact():
            # The signed header still links the author's chain; only this entry's content is lost.
            reject(result, e, "payload does not match its signed hash (tampered); kept as an empty link")
            result.hollowed += 1
            e = e.without_payload()
            self.tampered.add((e.author, e.seq))
            result.wanted.append((e.author, e.seq))  # ask other peers for a genuine copy
        slot = work.setdefault(e.author, {})
        other = slot.get(e.seq)
        held = self.pending.take((e.author, e.seq)) if other is None and self.pending.bytes else None
        if held is not None:
            other = held
        if other is not None and other[0].hash != e.hash:
            if e.signature_valid() and (other[0].hash in self.verified or other[0].signature_valid()):
                self._conflict(e, other[0].hash, result, work)
                slot[e.seq] = other
            else:
                slot[e.seq] = other
                reject(result, e, "signature does not verify")
            return
        if other is not None and other[0].ciphertext is None and e.ciphertext is not None:
            other = None
        slot[e.seq] = other if other is not None else (e, origin)

    def _conflict(self, e: Entry, first: bytes, result: IngestResult,
                  work: dict[bytes, dict[int, tuple[Entry, object]]]) -> None:
        if not e.signature_valid():
            reject(result, e, "signature does not verify")
            return
        if e.hash in self.graph:
            result.duplicates += 1
            return
        log.warning("author %s equivocated at %d: two signed entries with one sequence number", e.author.hex()[:12], e.seq)
        result.equivocations.append(Equivocation(e.author, e.seq, first, e))
        now = self.clock()
        if e.seq < self.forks.get(e.author, 1 << 62):
            self.forks[e.author] = e.seq
            # What waits of the author from the fork on (for its predecessor, say) can never be linked now:
            # it goes where everything past a fork goes, whenever the fork is found.
            for held, origin in self.pending.take_from(e.author, e.seq):
                self._side_node(held, work, origin, now, result)
        self._side_node(e, work, None, now, result)
        reject(result, e, "author equivocated: two entries with one sequence number")

    def _side_node(self, e: Entry, work: dict[bytes, dict[int, tuple[Entry, object]]], origin: object = None,
                   now: float = 0.0, result: IngestResult | None = None) -> bool:
        """A control entry of an equivocator that is off its chain (the other branch of the fork): put it in
        the control graph, void like everything past the fork, so entries that name it in their deps can
        still be placed and replicas that met different branches agree."""
        if e.hash in self.graph or e.ciphertext is None or not e.deps or len(self.side_nodes) >= VOID_CAP:
            return False
        missing = [d for d in e.deps if d not in self.graph]
        if missing:
            if result is not None:
                self._park(e, ("dep", missing[0]), origin, now, result)
            return False
        if not self.graph.admits(member_of(e.author), e.deps):
            return False
        try:
            ctx = self.graph.context(e.deps)
            key = self.keys.key_for(ctx)
            if key is None:
                if result is not None:
                    self._park(e, ("key", min(self.keys.missing(ctx))), origin, now, result)
                return False
            if e.epoch != self.graph.generation(ctx):
                return False
            plain = open_payload(key, e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
            if plain and plain[0] == KIND_YJS:
                # Off-chain content is void, but deletions of its item must still know whose item it is.
                for item in summarize_update(plain[1:]).inserts:
                    if item.client == client_id(self.short(e.author), e.seq) and item.client not in self.cid_owner:
                        self.cid_owner[item.client] = (e.author, item.root, item.key)
                        self._wake(("cid", item.client), work)
                return False
            if not plain or plain[0] != KIND_CONTROL:
                return False
            p = parse_op(ControlOp.decode(plain[1:]))
        except (DecodeError, InvalidEntry):
            return False
        self.graph.add(e.hash, e.author, e.seq, p, e.deps, e.epoch)
        self.side_nodes[e.hash] = e
        self._wake(("dep", e.hash), work)
        return True

    def _link_all(self, work: dict[bytes, dict[int, tuple[Entry, object]]], staged: list[Staged],
                  result: IngestResult, now: float) -> None:
        while True:
            progress = True
            while progress and work:
                progress = False
                for author in list(work):
                    slot = work[author]
                    for neg in [s for s in slot if s < 0]:  # repairs of hollow entries
                        e, origin = slot.pop(neg)
                        progress |= self._repair(e, origin, staged, result, now, work)
                    run = self._contiguous_run(author, slot)
                    if run:
                        progress = True
                        self._link_run(author, run, slot, staged, result, now, work)
                    if not slot:
                        del work[author]
            leftovers = [(a, seq, e, o) for a, slot in work.items() for seq, (e, o) in slot.items()]
            work.clear()
            for author, seq, e, origin in leftovers:
                if e.hash not in self.verified and not e.signature_valid():
                    reject(result, e, "signature does not verify")
                    continue
                if seq >= self.forks.get(author, 1 << 62):
                    # the other branch of a fork: never linkable; kept only as a control others may depend on
                    self._side_node(e, work, origin, now, result)
                    continue
                self._park(e, ("prev", author, seq - 1), origin, now, result)
            if not work:  # (a side node, or an item whose author a side entry names, may have woken entries)
                return

    def _contiguous_run(self, author: bytes, slot: dict[int, tuple[Entry, object]]) -> list[tuple[Entry, object]]:
        seq = self.head(author) + 1
        prev = self.chains[author][-1] if author in self.chains else NO_HASH
        run = []
        while seq in slot:
            e = slot[seq][0]
            if e.prev != prev:
                break
            run.append(slot[seq])
            prev = e.hash
            seq += 1
        return run

    def _link_run(self, author: bytes, run: list[tuple[Entry, object]], slot: dict[int, tuple[Entry, object]],
                  staged: list[Staged], result: IngestResult, now: float,
                  work: dict[bytes, dict[int, tuple[Entry, object]]]) -> None:
        for e, _o in run:
            del slot[e.seq]
        last = run[-1][0]
        trusted = len(run)
        if last.hash not in self.verified and not last.signature_valid():
            # One signature on the last entry vouches for the whole linked run; else check each.
            trusted = 0
            while trusted < len(run) and (run[trusted][0].hash in self.verified or run[trusted][0].signature_valid()):
                trusted += 1
        for i, (e, origin) in enumerate(run):
            if i >= trusted:
                reject(result, e, "signature does not verify" if i == trusted else "chains to a rejected entry")
                continue
            try:
                self._link_one(e, origin, staged, result, now, work)
                if i == trusted - 1 and self.pending.bytes:
                    self._wake(("prev", author, e.seq), work)  # later entries of the author that came early
            except Wait as wait:
                self._park(e, wait.key, origin, now, result, wait.due_ms)
                fork = self.forks.get(author, 1 << 62)
                for later, later_origin in run[i + 1 : trusted]:
                    self.verified.add(later.hash)
                    if later.seq >= fork:  # past a fork: never linkable, so waiting for its predecessor is no use
                        self._side_node(later, work, later_origin, now, result)
                    else:
                        self._park(later, ("prev", author, later.seq - 1), later_origin, now, result)
                for later, _lo in run[trusted:]:
                    reject(result, later, "signature does not verify" if later is run[trusted][0] else "chains to a rejected entry")
                return
            except (InvalidEntry, DecodeError) as exc:
                reject(result, e, exc.reason if isinstance(exc, InvalidEntry) else str(exc))
                forked = e.seq >= self.forks.get(author, 1 << 62)
                for later, later_origin in run[i + 1 :]:
                    if forked and later.hash not in self.graph:  # past a fork: only kept as a control others name
                        self.verified.add(later.hash)
                        self._side_node(later, work, later_origin, now, result)
                    reject(result, later, "chains to a rejected entry")
                return

    def _park(self, e: Entry, wait: WaitKey, origin: object, now: float, result: IngestResult, due: float = 0.0) -> None:
        self.verified.add(e.hash)
        if self.pending.park(e, wait, origin, now):
            if wait == ("time",):
                heapq.heappush(self._future, (due - FUTURE_SLACK_MS, e.author, e.seq))
            if isinstance(wait, tuple) and wait[0] == "dep" and wait[1] in self.hollow_hashes:
                self.wanted_hashes.add(wait[1])  # a control entry held without content: others need it
                result.wanted.append(self.hollow_hashes[wait[1]])
        else:
            self.verified.discard(e.hash)
            result.dropped.append((e, origin))

    def _wake(self, key: WaitKey, work: dict[bytes, dict[int, tuple[Entry, object]]]) -> None:
        for e, origin in self.pending.wake(key):
            work.setdefault(e.author, {})[e.seq] = (e, origin)

    # ----- one entry ------------------------------------------------------------------

    def _deps_info(self, e: Entry) -> DepsInfo:
        """What an entry's `deps` determine (key context, generation, time bound, id), cached per distinct list."""
        deps = e.deps
        info = self._deps_cache.get(deps)
        if info is None:
            if not deps:
                if not is_genesis(e):
                    raise InvalidEntry("entry names no control entries")
                if e.hash != self.room_id:
                    raise InvalidEntry("genesis of another room")
                return DepsInfo(frozenset((self.room_id,)), 0, 0, -1, frozenset())
            if any(a >= b for a, b in zip(deps, deps[1:])):
                raise InvalidEntry("entry's dependencies are not sorted")
            for d in deps:
                if d not in self.graph:
                    raise Wait(("dep", d))
            ctx = self.graph.context(deps)
            info = DepsInfo(ctx, self.graph.generation(ctx), self.graph.time_bound(deps), self.interner.id(deps),
                             frozenset(m for m in self.graph.adds if self.graph.admits(m, deps)))
            if len(self._deps_cache) > 4096:
                self._deps_cache.clear()
            self._deps_cache[deps] = info
        if e.epoch != info.gen:
            raise InvalidEntry("entry uses a stale or future key epoch")
        if deps and member_of(e.author) not in info.admitted:
            raise InvalidEntry("author is not a member")
        return info

    def _link_one(self, e: Entry, origin: object, staged: list[Staged], result: IngestResult, now: float,
                  work: dict[bytes, dict[int, tuple[Entry, object]]], repair: bool = False) -> None:
        """Check `e` and link it into its author's chain (or, for `repair`, restore its content); may raise
        Wait, InvalidEntry or DecodeError."""
        fork = self.forks.get(e.author) if self.forks else None
        if fork is not None and e.seq >= fork:
            self._side_node(e, work, origin, now, result)  # a control others may name in their deps stays placeable
            raise InvalidEntry("author equivocated: two entries with one sequence number")
        info = self._deps_cache.get(e.deps)
        if info is None or e.epoch != info.gen or member_of(e.author) not in info.admitted:
            info = self._deps_info(e)  # works it out, or says what is wrong
        ctx = info.ctx
        if e.ciphertext is None:
            self._link(e, staged, result, KIND_REDACTED, HOLLOW, 0, info.deps_id)
            self.hollow.add((e.author, e.seq))
            self.hollow_hashes[e.hash] = (e.author, e.seq)
            # Only messages are hollowed legitimately (deleted or expired): the deletion that names this
            # entry's item must still learn whose it was.
            client = client_id(self.short(e.author), e.seq)
            if client not in self.cid_owner:
                self.cid_owner[client] = (e.author, ROOTS[0], eid(e.author, e.seq))
                if self.pending:
                    self._wake(("cid", client), work)
            return
        key = self.keys.key_for(ctx)
        if key is None:
            raise Wait(("key", min(self.keys.missing(ctx))))
        plain = open_payload(key, e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
        if not plain:
            raise InvalidEntry("empty payload")
        kind, body = plain[0], plain[1:]
        genesis = e.seq == 0 and is_genesis(e)
        if kind == KIND_CONTROL:
            p = parse_op(ControlOp.decode(body))
            if genesis != (p.op == "genesis"):
                raise InvalidEntry("genesis must be the first entry of a room and only that")
            check_time(p.ts, info.bound, now, FUTURE_SLACK_MS)
            if self.void_capped(e.author, VOID_CAP):
                raise InvalidEntry("too many entries from someone who is not a member")
            if repair:
                self._unhollow(e)
            else:
                self._link(e, staged, result, KIND_CONTROL_ROW, CONTROL, 0, info.deps_id)
            node = self.graph.add(e.hash, e.author, e.seq, p, e.deps, e.epoch)
            if p.rotation is not None:
                self._open_rotation(node.hash, p.rotation.commit, p.rotation.sealed, result, work)
            self._wake(("dep", e.hash), work)
            return
        if kind != KIND_YJS or genesis:
            raise InvalidEntry("unknown payload kind")
        writer = self._shorts.get(e.author) or self.short(e.author)
        check = fast_check_message(e, body, writer)
        if check is None:
            try:
                check = check_content(e, body, writer, self._owner_of)
            except UnknownItem as unknown:
                raise Wait(("cid", unknown.client)) from None
        ts = check.ts
        if ts is not None and not info.bound <= ts <= now + FUTURE_SLACK_MS:
            check_time(ts, info.bound, now, FUTURE_SLACK_MS)
        if self.void_counts and self.void_capped(e.author, VOID_CAP):
            raise InvalidEntry("too many entries from someone who is not a member")
        waiting = self.pending.bytes  # 0 exactly when nothing waits
        for item in check.summary.inserts:
            self.cid_owner[item.client] = (e.author, item.root, item.key)
            if waiting:
                self._wake(("cid", item.client), work)
        if repair:
            self._unhollow(e)
            staged.append(Staged(e, check, body, repair=True))
            self._set_meta(e, check.need, check.flags)
        else:
            self._link(e, staged, result, check.kind, check.flags, int(check.need), info.deps_id, check, body)

    def _link(self, e: Entry, staged: list[Staged], result: IngestResult, kind: int, flags: int, need: int,
              deps_id: int, check: ContentCheck | None = None, body: bytes = b"") -> None:
        author, h, seq = e.author, e.hash, e.seq
        chain = self.chains.get(author)
        if chain is None:
            chain = self.chains[author] = Chain()
        meta = self.meta.get(author)
        if meta is None:
            meta = self.meta[author] = AuthorMeta(seq)
        if seq - meta.base != len(meta.flags):  # (AuthorMeta.append, inline: once per entry linked)
            raise ValueError(f"entry {seq} does not extend the author's entries held ({meta.end})")
        chain.hashes.append(h)
        meta.deps.append(deps_id if deps_id >= 0 else self.interner.id(e.deps))
        meta.need.append(need)
        meta.flags.append(flags)
        self.entry_count += 1
        result.accepted.append(e)
        result.kinds.append(kind)
        result.needs.append(need)
        result.flags.append(flags)
        staged.append(Staged(e, check, body))
        if self.verified:
            self.verified.discard(h)

    def _set_meta(self, e: Entry, need: int, flags: int) -> None:
        meta = self._meta(e.author, e.seq)
        if meta is not None:
            meta.need[e.seq - meta.base] = need
            meta.set_flags(e.seq, flags)

    def _unhollow(self, e: Entry) -> None:
        self.hollow.discard((e.author, e.seq))
        self.tampered.discard((e.author, e.seq))
        self.hollow_hashes.pop(e.hash, None)
        self.wanted_hashes.discard(e.hash)

    def _repair(self, e: Entry, origin: object, staged: list[Staged], result: IngestResult, now: float,
                work: dict[bytes, dict[int, tuple[Entry, object]]]) -> bool:
        """A genuine copy of an entry held hollow: check it and restore its content."""
        try:
            before = len(staged)
            self._link_one(e, origin, staged, result, now, work, repair=True)
        except (Wait, InvalidEntry, DecodeError) as exc:
            log.info("could not restore entry %s/%d: %s", e.author.hex()[:12], e.seq, exc)
            return False
        if len(staged) == before:  # a control entry: it is in the graph now
            staged.append(Staged(e, None, b"", repair=True))
            self._set_meta(e, 0, CONTROL)
        result.repaired.append(e)
        return True

    def _owner_of(self, client: int) -> tuple[bytes, str, str] | None:
        owner = self.cid_owner.get(client)
        if owner is None and self.cid_loader is not None:
            loader, self.cid_loader = self.cid_loader, None
            for author, seq, kind in loader():
                if 0 <= kind < len(ROOTS):
                    self.cid_owner[client_id(self.short(author), seq)] = (author, ROOTS[kind], eid(author, seq))
            owner = self.cid_owner.get(client)
        return owner

    def _open_rotation(self, rotation: bytes, commit: bytes, sealed: dict[bytes, bytes], result: IngestResult,
                       work: dict[bytes, dict[int, tuple[Entry, object]]]) -> None:
        """Hold the key a rotation sealed to us, if it matches the key the rotation committed to."""
        if self.identity is None or rotation in self.keys:
            return
        box = sealed.get(bytes(self.identity.verify_key))
        if box is None:
            return
        try:
            key = open_sealed(self.identity, box)
        except DecodeError:
            log.warning("a key rotation holds a key for us that does not open")
            return
        if key_commitment(key) != commit:
            log.warning("a key rotation sealed us a key that is not the one it committed to")
            return
        self.add_key(rotation, key, result, work)

    def add_key(self, rotation: bytes, key: bytes, result: IngestResult | None = None,
                work: dict[bytes, dict[int, tuple[Entry, object]]] | None = None) -> bool:
        """Hold a room key (never replacing one held); entries that waited for it come back on the next ingest,
        or at once when called from inside one."""
        if not self.keys.add(rotation, key):
            return False
        if result is not None:
            result.new_keys.append((rotation, key))
        if work is not None:
            self._wake(("key", rotation), work)
        return True

    def key_matches(self, rotation: bytes, key: bytes) -> bool | None:
        """Whether `key` is the key of `rotation` by the rotation's commitment (None: rotation not held yet)."""
        node = self.graph.nodes.get(rotation)
        if node is None or node.op.rotation is None:
            return None
        return key_commitment(key) == node.op.rotation.commit

    def waiting_for_keys(self) -> list[bytes]:
        """Rotations whose keys entries are waiting for."""
        return [w[1] for w in self.pending.waits() if isinstance(w, tuple) and w[0] == "key"]

    def expire_pending(self, now_ms: float) -> list[tuple[Entry, object]]:
        return self.pending.expire(now_ms)
