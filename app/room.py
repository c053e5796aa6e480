"""A room as the node uses it: the validated log, its view and its storage, with the operations a member performs."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from crdt.chain import Chain
from crdt.cipher import new_room_key, open_payload, seal_to_member
from crdt.content import VALID
from crdt.control import ControlOp, key_commitment
from crdt.docsync import apply_updates
from crdt.entry import Entry
from crdt.errors import DecodeError, NotAMember, PermissionDenied, RoomError, StoreError
from crdt.restore import restore_log
from crdt.room import KIND_DELETE_ONLY, IngestResult, RoomLog, genesis_entry
from crdt.schema import CHANNELS, DELETES, EDITS, MESSAGES, PINS, REACTIONS, SETTINGS, Role, client_id, short_id, split_eid
from crdt.store_open import chain_hashes, chain_heads, controls_and_hollow
from crdt.yjs_update import encode_delete_update
from crdt.view import Channel, Message

from .errors import HubbubError, RoomNotFound, as_sentence
from .profile import Profile

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 2000     # entries after which an idle moment saves a snapshot (`snapshot_if_due`)
SNAPSHOT_FORCED = 50_000  # entries after which one is saved at once, busy or not
HIDDEN_CHANNELS = frozenset(("~profile",))  # channels nobody creates, never listed: avatars (app/files/profile_pictures.py)
MENTION = re.compile(r"(?<![\w@])@([\w.\-]{1,64})")
GROUP_MENTIONS = ("everyone", "here")  # @everyone and @here, kept in a message's mentions as "@everyone", "@here"


def now_ms() -> float:
    return time.time() * 1000.0


def slug(name: str) -> str:
    """The channel id for a channel name: lower case, dashes for spaces."""
    s = re.sub(r"[^\w\-]+", "-", name.strip().lower()).strip("-")
    return s[:64] or "channel"


@dataclass(frozen=True, slots=True)
class MemberInfo:
    key: bytes
    short: str
    name: str
    role: Role


Listener = Callable[["Room", list[Entry]], None]
class ContentWatcher(Protocol):
    """Hears, after they are stored, what an ingest changed in the view, and which messages were purged (app/search)."""

    def changed(self, room: Room, result: IngestResult) -> None: ...

    def purged(self, room: Room, message_ids: set[str]) -> None: ...


class Room:
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

    @property
    def id(self) -> bytes:
        return self.log.room_id

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

    # ----- state ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.view.settings().get("n") or self.log.state().name or self.stored_name)

    @property
    def me(self) -> bytes:
        return self.profile.public_key

    def my_role(self) -> Role | None:
        return self.log.state().role_of(self.me)

    def members(self) -> list[MemberInfo]:
        state = self.log.state()
        out = [MemberInfo(k, short_id(k), m.name or short_id(k), m.role) for k, m in state.members.items()]
        out.sort(key=lambda m: (-int(m.role), m.name.lower()))
        return out

    def name_of(self, short: str) -> str:
        state = self.log.state()
        for k, m in [*state.members.items(), *state.former.items()]:
            if short_id(k) == short:
                return m.name or short
        return short

    def channels(self) -> list[Channel]:
        return self.view.channels()

    def find_channel(self, name: str) -> Channel:
        wanted = name.lstrip("#")
        for c in self.channels():
            if c.id == wanted or c.name == wanted or c.id == slug(wanted):
                return c
        raise HubbubError(f"The room has no channel named {name}.")

    def is_public(self) -> bool:
        return self.log.state().public

    def is_direct(self) -> bool:
        """A direct room (a DM): a room of two, marked so by its creator in the room settings."""
        return self.view.settings().get("dm") is True

    def direct_peer(self) -> bytes | None:
        """In a direct room, the other member's key (None elsewhere, or before they were added)."""
        if not self.is_direct():
            return None
        return next((k for k in self.log.state().active_members() if k != self.me), None)

    def history(self, channel: str = "general", limit: int | None = None) -> list[Message]:
        cid = self.find_channel(channel).id
        if limit is None:
            return self.view.history(cid, now_ms=now_ms())
        return self.view.page(cid, limit, now_ms=now_ms())

    def message(self, message_id: str) -> Message:
        msg = self.view.message(message_id, now_ms())
        if msg is None:
            raise HubbubError("That message is not in this room.")
        return msg

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

    def _local(self, write: Callable[[], IngestResult]) -> IngestResult:
        """Run a local write through validation, then store and announce it like any other entry.

        If a member left or a void admission left the room key exposed, the key rotates first, so
        nothing we write is readable by someone who is no longer a member."""
        if not self._rekeying and self.log.rekey_reasons() and self.my_role() is not None:
            self._rekeying = True
            try:
                self.rekey()
            finally:
                self._rekeying = False
        try:
            result = write()
        except NotAMember as exc:
            raise HubbubError("You are not a member of this room, so you cannot write to it.") from exc
        except PermissionDenied as exc:
            raise HubbubError(f"You are not allowed to do that: {exc}.") from exc
        except RoomError as exc:
            raise HubbubError(as_sentence(str(exc))) from exc
        if self._batch is not None:
            for name in ("accepted", "kinds", "needs", "flags", "flipped", "new_keys", "inserts", "removed"):
                getattr(self._batch, name).extend(getattr(result, name))
            self._batch.rebuilt = self._batch.rebuilt or result.rebuilt
            return result
        self._store_and_announce(result)
        return result

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

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group local writes into one fsync'd commit and one announcement (many messages sent at once).

        Each write is validated as it is made; none is acknowledged or passed on
        before the commit at the end of the block.
        """
        if self._batch is not None:
            yield
            return
        self._batch = IngestResult()
        try:
            yield
        finally:
            done, self._batch = self._batch, None
            if done.accepted:
                self._store_and_announce(done)

    def post_many(self, channel: str, texts: Iterable[str]) -> list[str]:
        """Post several messages at once, stored in one commit; returns their ids."""
        with self.batch():
            return [self.post(channel, text) for text in texts]

    def _write(self, root: str, value: dict[str, Any], delete: Iterable[str] = ()) -> str:
        holder: list[str] = []

        def run() -> IngestResult:
            key, result = self.log.write_value(self.profile.identity, root, value, delete)
            holder.append(key)
            return result

        self._local(run)
        return holder[0]

    # ----- operations ------------------------------------------------------------------------------

    def _mentions(self, text: str) -> list[str]:
        """Who the text mentions: members by name or id, and @everyone / @here, which only a moderator may use
        (a member's @everyone mentions nobody; receivers also ignore it from anyone below moderator)."""
        if "@" not in text:
            return []
        members = self.members()
        names = {m.name.lower(): m.short for m in members}
        names.update({m.short.lower(): m.short for m in members})
        may_all = (self.my_role() or Role.MEMBER) >= Role.MODERATOR
        out = []
        for token in MENTION.findall(text):
            low = token.lower()
            group = low.rstrip(".-")
            short = ("@" + group if may_all else None) if group in GROUP_MENTIONS else names.get(low)
            if short and short not in out:
                out.append(short)
        return out

    def post(self, channel: str, text: str, *, reply_to: str | None = None, thread: str | None = None,
             ttl: float | None = None, forward: dict[str, Any] | None = None,
             attachments: list[dict[str, Any]] | None = None) -> str:
        if not text.strip() and forward is None and not attachments:
            raise HubbubError("A message cannot be empty.")
        if len(text) > 16_000:
            raise HubbubError("A message can be at most 16000 characters.")
        cid = channel if channel in HIDDEN_CHANNELS else self.find_channel(channel).id
        value: dict[str, Any] = {"c": cid, "t": text, "ts": now_ms()}
        if reply_to:
            target = self.message(reply_to)
            value["r"] = target.id
            if thread is None and target.thread:
                value["th"] = target.thread
        if thread:
            value["th"] = self.message(thread).id
        if ttl:
            value["ttl"] = float(ttl)
        if forward:
            value["f"] = forward
        if attachments:
            value["a"] = attachments  # file manifests (app/files/manifest.py; rules in crdt/attachments.py)
        mentions = self._mentions(text)
        if mentions:
            value["mn"] = mentions
        return self._write(MESSAGES, value)

    def edit(self, message_id: str, text: str) -> str:
        msg = self.message(message_id)
        if msg.deleted:
            raise HubbubError("A deleted message cannot be edited.")
        if not text.strip():
            raise HubbubError("An edit cannot be empty; delete the message instead.")
        return self._write(EDITS, {"m": msg.id, "t": text, "ts": now_ms()})

    def delete(self, message_id: str) -> str:
        msg = self.message(message_id)
        if msg.deleted:
            raise HubbubError("That message is already deleted.")
        mine = short_id(self.me)
        removable = [msg.id] + [e.eid for e in msg.edits[1:] if e.by == mine or (self.my_role() or Role.MEMBER) >= Role.MODERATOR]
        return self._write(DELETES, {"m": msg.id, "c": msg.channel, "ots": msg.ts, "ts": now_ms()}, delete=removable)

    def react(self, message_id: str, emoji: str) -> str | None:
        msg = self.message(message_id)
        if not emoji or len(emoji) > 32:
            raise HubbubError("A reaction must be one emoji.")
        if short_id(self.me) in msg.reactions.get(emoji, []):
            return None
        return self._write(REACTIONS, {"m": msg.id, "e": emoji})

    def unreact(self, message_id: str, emoji: str) -> None:
        msg = self.message(message_id)
        ids = msg.reaction_ids.get((emoji, short_id(self.me)), [])
        if not ids:
            return
        self._delete_items(ids)

    def toggle_reaction(self, message_id: str, emoji: str) -> None:
        msg = self.message(message_id)
        if short_id(self.me) in msg.reactions.get(emoji, []):
            self.unreact(message_id, emoji)
        else:
            self.react(message_id, emoji)

    def pin(self, message_id: str) -> str | None:
        msg = self.message(message_id)
        if msg.pinned:
            return None
        return self._write(PINS, {"m": msg.id, "ts": now_ms()})

    def unpin(self, message_id: str) -> None:
        msg = self.message(message_id)
        if msg.pin_ids:
            self._delete_items(msg.pin_ids)

    def _delete_items(self, eids: list[str]) -> None:
        self._local(lambda: self.log.write_deletes(self.profile.identity, eids))

    def forward(self, message_id: str, target: Room, channel: str = "general") -> str:
        msg = self.message(message_id)
        if msg.deleted:
            raise HubbubError("A deleted message cannot be forwarded.")
        provenance = {"room": self.name, "room_id": self.id.hex()[:16], "id": msg.id,
                      "author": self.name_of(msg.author), "ts": msg.ts}
        return target.post(channel, msg.text, forward=provenance)

    def create_channel(self, name: str, kind: str = "text", category: str = "", ttl: float | None = None) -> str:
        cid = slug(name)
        if any(c.id == cid for c in self.channels()):
            raise HubbubError(f"The room already has a channel named {name}.")
        value: dict[str, Any] = {"id": cid, "n": name.strip(), "k": kind, "g": category, "ts": now_ms(),
                                 "pos": float(len(self.channels())), "del": False}  # undeletes a deleted one
        if ttl:
            value["ttl"] = float(ttl)
        self._write(CHANNELS, value)
        return cid

    def update_channel(self, channel: str, **fields: Any) -> None:
        c = self.find_channel(channel)
        value: dict[str, Any] = {"id": c.id, "ts": now_ms()}
        mapping = {"name": "n", "category": "g", "ttl": "ttl", "topic": "topic", "deleted": "del"}
        for k, v in fields.items():
            value[mapping[k]] = v
        self._write(CHANNELS, value)

    def update_settings(self, *, name: str | None = None, public: bool | None = None, tags: list[str] | None = None,
                        topic: str | None = None, direct: bool | None = None, icon: dict[str, Any] | None = None,
                        relays: list[str] | None = None) -> None:
        value: dict[str, Any] = {"ts": now_ms()}
        if relays is not None:
            value["rl"] = relays  # canonical relay addresses (app/relay/settings.py)
        if icon is not None:
            value["icon"] = icon  # a picture's manifest (app/files/profile_pictures.py)
        if direct is not None:
            value["dm"] = direct
        if name is not None:
            value["n"] = name.strip()
        if public is not None:
            value["pub"] = public
        if tags is not None:
            value["tags"] = tags
        if topic is not None:
            value["topic"] = topic
        self._write(SETTINGS, value)
        if public is not None and public != self.is_public():
            self._control(ControlOp("public", {"on": public}))
        if name:
            self.profile.store.set_room_name(self.id, name.strip())

    def _control(self, op: ControlOp) -> Entry:
        result = self._local(lambda: self.log.write_control(self.profile.identity, op))
        return result.accepted[0]

    def add_member(self, member: bytes, role: str = "member", name: str = "", invite: str | None = None,
                   public: bool = False) -> None:
        args: dict[str, Any] = {"member": member.hex(), "role": role, "name": name}
        if public:
            args["public"] = True
        if invite:
            args["invite"] = invite
        self._control(ControlOp("add", args))

    def set_role(self, member: bytes, role: str) -> None:
        """Change a member's role; a demotion voids what they did that we had not seen (after_seq)."""
        self._control(ControlOp("role", {"member": member.hex(), "role": role, "after_seq": self.log.head(member)}))

    def set_member_name(self, name: str) -> None:
        self._control(ControlOp("name", {"name": name}))

    def _rotation(self, exclude: bytes | None = None) -> dict[str, Any]:
        """A new room key, committed to and sealed to every current member but `exclude`."""
        new_key = new_room_key()
        keys = {k.hex(): seal_to_member(k, new_key).hex() for k in self.log.state().active_members() if k != exclude}
        return {"commit": key_commitment(new_key).hex(), "keys": keys}

    def remove_member(self, member: bytes) -> None:
        """Remove a member and rotate the room key so they cannot read what follows."""
        if member == self.me:
            # Leaving: we must not pick the next key; the members who stay rotate (`rekey_if_needed`).
            self._control(ControlOp("remove", {"member": member.hex(), "after_seq": self.log.head(member)}))
            return
        self._control(ControlOp("remove", {"member": member.hex(), "after_seq": self.log.head(member),
                                           "rotate": self._rotation(member)}))

    def rekey(self) -> None:
        """Rotate the room key to the current members (after someone left, or a lost invite race)."""
        reasons = self.log.rekey_reasons()
        self._control(ControlOp("rekey", {"rotate": self._rotation(), "for": [h.hex() for h in reasons[:64]]}))

    def rekey_reasons(self) -> list[bytes]:
        """Why the key should rotate now (see `RoomLog.rekey_reasons`); empty unless we are a member."""
        return self.log.rekey_reasons() if self.my_role() is not None else []

    def create_invite(self, valid_seconds: float | None = 7 * 24 * 3600, uses: int = 1) -> tuple[str, bytes, int | None]:
        """Record an invite for `uses` joiners; returns (invite id, invite secret, expiry in ms or None: never)."""
        if uses < 1:
            raise HubbubError("An invite must admit at least one person.")
        invite_id = secrets.token_urlsafe(12)
        secret = secrets.token_bytes(32)
        expires = None if valid_seconds is None else int(now_ms() + valid_seconds * 1000)
        args: dict[str, Any] = {"id": invite_id, "key": secret.hex(), "expires_ms": expires}
        if uses != 1:
            args["uses"] = uses
        self._control(ControlOp("invite", args))
        return invite_id, secret, expires

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

    def _author_of(self, short: str) -> bytes | None:
        for k in self.log.chains:
            if short_id(k) == short:
                return k
        return None

