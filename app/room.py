"""A room as the node uses it: the validated log, its view and its storage, with the operations a member performs."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from crdt.cipher import new_room_key, open_payload, open_sealed, seal_to_member
from crdt.control import ControlOp
from crdt.entry import Entry
from crdt.errors import DecodeError, NotAMember, PermissionDenied, RoomError, StoreError
from crdt.room import KIND_CONTROL_ROW, KIND_DELETE_ONLY, IngestResult, RoomLog, apply_updates, genesis_entry, restore_log
from crdt.schema import CHANNELS, DELETES, EDITS, MESSAGES, PINS, REACTIONS, SETTINGS, Role, client_id, short_id, split_eid
from crdt.yjs_update import encode_delete_update
from crdt.view import Channel, Message

from .errors import HubbubError, RoomNotFound, as_sentence
from .profile import Profile

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 2000     # entries after which an idle moment saves a snapshot (`snapshot_if_due`)
SNAPSHOT_FORCED = 50_000  # entries after which one is saved at once, busy or not
NEVER_EXPIRES_MS = 253_402_300_799_000  # 9999-12-31 23:59:59 UTC: the expiry of an invite that "never" expires
MENTION = re.compile(r"(?<![\w@])@([\w.\-]{1,64})")


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


class Room:
    """One room of one profile."""

    def __init__(self, profile: Profile, log_: RoomLog, name: str) -> None:
        self.profile = profile
        self.log = log_
        self.view = log_.view()
        self.stored_name = name
        self.listeners: list[Listener] = []
        self._since_snapshot = 0
        self._last_write = 0.0
        self._batch: IngestResult | None = None
        self._purged: set[str] = set()
        self.log.cid_loader = lambda: profile.store.entry_kinds(self.id)

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
        room_log = RoomLog(genesis.hash, {0: key})
        result = room_log.ingest([genesis])
        profile.store.add_room(genesis.hash, name, {0: key})
        profile.store.append(genesis.hash, result.accepted, result.kinds)
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
        controls = store.entries_where(room_id, "e.kind=?", (KIND_CONTROL_ROW,))
        room_log = restore_log(room_id, keys, store.chains(room_id), controls, store.revoked(room_id), store.hollow(room_id))
        snap = store.snapshot(room_id)
        upto = 0
        if snap is not None:
            upto, state = snap
            room_log.doc.apply_update(state)
        later = store.entries_where(room_id, "e.n>? AND e.kind<=?", (upto, KIND_DELETE_ONLY))
        updates = []
        for e in later:
            if e.ciphertext is None or e.epoch not in keys:
                continue
            plain = open_payload(keys[e.epoch], e.nonce, e.ciphertext, e.room_id, e.author, e.seq, e.epoch)
            updates.append(plain[1:])
        if updates:
            apply_updates(room_log.doc, updates)
        room = cls(profile, room_log, names[room_id])
        room._since_snapshot = len(later)
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
        out = [MemberInfo(k, short_id(k), m.name or short_id(k), m.role) for k, m in state.members.items() if m.removed_after is None]
        out.sort(key=lambda m: (-int(m.role), m.name.lower()))
        return out

    def name_of(self, short: str) -> str:
        for k, m in self.log.state().members.items():
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

    def ingest(self, entries: Iterable[Entry], *, durable: bool = True) -> IngestResult:
        """Validate, store, then apply and announce entries; the store is written before anyone hears of them.

        With `durable=False` the entries are committed but not yet fsynced when the
        listeners hear of them (see `Store.append`); whoever passes them on must wait
        for `Store.sync` first, as `NodeService` does.
        """
        before_revoked = dict(self.log.revoked)
        result = self.log.ingest(entries)
        self._persist(result, durable)
        if self.log.revoked != before_revoked:
            self.profile.store.set_revoked(self.id, self.log.revoked)
        for eq in result.equivocations:
            self.profile.store.record_equivocation(self.id, eq.author, eq.seq, eq.first_hash, eq.second.encode())
        if result.control_changed:
            self._pick_up_keys()
        if result.accepted:
            for listener in list(self.listeners):
                try:
                    listener(self, result.accepted)
                except Exception:  # a listener's bug must not undo a stored entry
                    log.exception("room listener failed")
        return result

    def _persist(self, result: IngestResult, durable: bool = True) -> None:
        if result.repaired:
            self.profile.store.fill_payload(self.id, result.repaired)
        if not result.accepted:
            return
        try:
            self.profile.store.append(self.id, result.accepted, result.kinds, durable=durable)
        except StoreError:
            # Nothing was written: forget the in-memory effect by reopening from disk.
            fresh = Room.open(self.profile, self.id)
            self.log, self.view = fresh.log, fresh.view
            raise
        self._since_snapshot += len(result.accepted)
        self._last_write = time.monotonic()
        if self._since_snapshot >= SNAPSHOT_FORCED:
            self.snapshot()

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

    def _pick_up_keys(self) -> None:
        """Store any rotated room key that was sealed to us."""
        state = self.log.state()
        for epoch, sealed in state.sealed_keys.items():
            if epoch in self.log.keys or self.me not in sealed:
                continue
            try:
                key = open_sealed(self.profile.identity, sealed[self.me])
            except DecodeError:
                continue
            self.log.keys[epoch] = key
            self.profile.store.set_key(self.id, epoch, key)

    def _local(self, write: Callable[[], IngestResult]) -> IngestResult:
        """Run a local write through validation, then store and announce it like any other entry."""
        try:
            result = write()
        except NotAMember as exc:
            raise HubbubError("You are not a member of this room, so you cannot write to it.") from exc
        except PermissionDenied as exc:
            raise HubbubError(f"You are not allowed to do that: {exc}.") from exc
        except RoomError as exc:
            raise HubbubError(as_sentence(str(exc))) from exc
        if self._batch is not None:
            self._batch.accepted.extend(result.accepted)
            self._batch.kinds.extend(result.kinds)
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
        if "@" not in text:
            return []
        members = self.members()
        names = {m.name.lower(): m.short for m in members}
        names.update({m.short.lower(): m.short for m in members})
        out = []
        for token in MENTION.findall(text):
            short = names.get(token.lower())
            if short and short not in out:
                out.append(short)
        return out

    def post(self, channel: str, text: str, *, reply_to: str | None = None, thread: str | None = None,
             ttl: float | None = None, forward: dict[str, Any] | None = None) -> str:
        if not text.strip() and forward is None:
            raise HubbubError("A message cannot be empty.")
        if len(text) > 16_000:
            raise HubbubError("A message can be at most 16000 characters.")
        cid = self.find_channel(channel).id
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
                                 "pos": float(len(self.channels()))}
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
                        topic: str | None = None, direct: bool | None = None) -> None:
        value: dict[str, Any] = {"ts": now_ms()}
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
        self._pick_up_keys()
        return result.accepted[0]

    def add_member(self, member: bytes, role: str = "member", name: str = "", invite: str | None = None,
                   public: bool = False) -> None:
        args: dict[str, Any] = {"member": member.hex(), "role": role, "name": name}
        if public:
            args["public"] = True
        if invite:
            args["invite"] = invite
            args["ts_ms"] = int(now_ms())
        self._control(ControlOp("add", args))

    def set_role(self, member: bytes, role: str) -> None:
        self._control(ControlOp("role", {"member": member.hex(), "role": role}))

    def set_member_name(self, name: str) -> None:
        self._control(ControlOp("name", {"name": name}))

    def remove_member(self, member: bytes) -> None:
        """Remove a member and rotate the room key so they cannot read what follows."""
        state = self.log.state()
        new_key = new_room_key()
        keys = {k.hex(): seal_to_member(k, new_key).hex() for k in state.active_members() if k != member}
        # A member who never wrote has head -1, which the control rules do not accept (yet): 0 is the nearest bound.
        after = max(0, self.log.head(member))
        self._control(ControlOp("remove", {"member": member.hex(), "after_seq": after,
                                           "rotate": {"epoch": state.epoch + 1, "keys": keys}}))

    def create_invite(self, valid_seconds: float | None = 7 * 24 * 3600, uses: int = 1) -> tuple[str, bytes, int]:
        """Record an invite good for `uses` joins within `valid_seconds` (None: it never expires).

        Returns (invite id, invite secret, expiry in ms). The `uses` argument goes into the
        control operation only when it is not the single use every older node assumes.
        """
        if uses < 1:
            raise HubbubError("An invite must allow at least one use.")
        invite_id = secrets.token_urlsafe(12)
        secret = secrets.token_bytes(32)
        expires = NEVER_EXPIRES_MS if valid_seconds is None else int(now_ms() + valid_seconds * 1000)
        args: dict[str, Any] = {"id": invite_id, "key": secret.hex(), "expires_ms": expires}
        if uses != 1:
            args["uses"] = int(uses)
        self._control(ControlOp("invite", args))
        return invite_id, secret, expires

    def purge_expired(self) -> int:
        """Remove the content of expired and deleted messages from this node: store and view; returns how many.

        The signed headers stay, so the authors' chains still verify; the ciphertext
        goes, and an expired message's value is deleted from the local view too.
        """
        count = 0
        expired = set(self.view.newly_expired(now_ms()))
        targets = expired | set(self.view.newly_deleted())
        local_deletes = []
        for key in targets - self._purged:
            parts = split_eid(key)
            author = self._author_of(parts[0]) if parts else None
            if parts is None or author is None:
                continue
            self.profile.store.redact(self.id, author, parts[1])
            self._purged.add(key)
            count += 1
            if key in expired:
                local_deletes.append((client_id(parts[0], parts[1]), 0, 1))
        if local_deletes:
            apply_updates(self.log.doc, [encode_delete_update(local_deletes)])
            self.snapshot()
        return count

    def _author_of(self, short: str) -> bytes | None:
        for k in self.log.chains:
            if short_id(k) == short:
                return k
        return None

