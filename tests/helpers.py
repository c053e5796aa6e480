"""Test helpers for the room layer: rooms in memory, hand-crafted entries, and lossy in-memory sync links."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey
from pycrdt import Doc, Map, merge_updates

from crdt.cipher import new_nonce, new_room_key, seal_payload
from crdt.control import ControlOp
from crdt.entry import NO_HASH, Entry, sign_entry
from crdt.room import KIND_CONTROL, KIND_YJS, IngestResult, RoomLog, genesis_entry
from crdt.schema import ROOTS, client_id, eid, short_id, split_eid
from crdt.sync import EntriesReceived, MemorySource, SyncProtocol
from crdt.view import RoomView
from crdt.yjs_update import encode_delete_update


def pub(identity: SigningKey) -> bytes:
    return bytes(identity.verify_key)


def short(identity: SigningKey) -> str:
    return short_id(pub(identity))


def new_room(owner: SigningKey, name: str = "test room") -> tuple[RoomLog, Entry, bytes]:
    """A fresh room log holding only its genesis; returns (log, genesis, room key)."""
    key = new_room_key()
    genesis = genesis_entry(owner, key, name, "owner", ts_ms=0)
    log = RoomLog(genesis.hash, {genesis.hash: key}, owner)
    log.clock = lambda: 0.0
    result = log.ingest([genesis])
    assert result.accepted == [genesis], result.rejected
    return log, genesis, key


def add_member(log: RoomLog, admin: SigningKey, member: SigningKey, role: str = "member", name: str = "") -> IngestResult:
    return log.write_control(admin, ControlOp("add", {"member": pub(member).hex(), "role": role, "name": name or short(member)}))


def post(log: RoomLog, author: SigningKey, text: str, channel: str = "general", ts: float = 1000.0, **extra: Any) -> str:
    key, _ = log.write_value(author, "m", {"c": channel, "t": text, "ts": ts, **extra})
    return key


def _split(target: str) -> tuple[str, int]:
    parts = split_eid(target)
    assert parts is not None, target
    return parts


def craft_entry(log: RoomLog, identity: SigningKey, kind: int, body: bytes, *, seq: int | None = None,
                prev: bytes | None = None, deps: tuple[bytes, ...] | None = None, room_id: bytes | None = None,
                epoch: int | None = None, room_key: bytes | None = None) -> Entry:
    """A validly signed and encrypted entry by `identity`, placed by default where `log` expects its next one.

    Nothing is checked here: the entry may break any rule the caller wants to test.
    """
    author = pub(identity)
    if seq is None:
        seq = log.head(author) + 1
    if prev is None:
        prev = log.chains[author][seq - 1] if seq > 0 and author in log.chains and len(log.chains[author]) >= seq else NO_HASH
    if deps is None:
        deps = tuple(sorted(log.frontier))
    if room_id is None:
        room_id = log.room_id
    if epoch is None:
        epoch = log.graph.generation(log.graph.context(deps)) if deps else 0
    if room_key is None:
        room_key = log.keys.key_for(log.graph.context(deps)) if deps else log.keys.get(log.room_id)
        assert room_key is not None, "the log does not hold the key for these deps"
    nonce = new_nonce()
    ct = seal_payload(room_key, nonce, bytes((kind,)) + body, room_id, author, seq, epoch)
    return sign_entry(identity, room_id=room_id, seq=seq, prev=prev, epoch=epoch, deps=deps, nonce=nonce, ciphertext=ct)


def yjs_insert(root: str, key: str, value: dict[str, Any], client: int) -> bytes:
    """A Yjs update made by a scratch document with the given client id: `root[key] = value`."""
    doc = Doc(client_id=client)
    doc.get(root, type=Map)[key] = value
    return doc.get_update()


def value_entry(log: RoomLog, identity: SigningKey, root: str, value: dict[str, Any], *, key: str | None = None,
                client: int | None = None, delete: Iterable[str] = (), seq: int | None = None, **kw: Any) -> Entry:
    """An entry inserting `value` under `root`, with the entry-derived key and client id unless overridden."""
    author = pub(identity)
    if seq is None:
        seq = log.head(author) + 1
    key = eid(author, seq) if key is None else key
    client = client_id(short_id(author), seq) if client is None else client
    update = yjs_insert(root, key, value, client)
    ranges = [(client_id(*_split(t)), 0, 1) for t in delete]
    if ranges:
        update = merge_updates(update, encode_delete_update(ranges))
    return craft_entry(log, identity, KIND_YJS, update, seq=seq, **kw)


def delete_entry(log: RoomLog, identity: SigningKey, targets: Iterable[str], **kw: Any) -> Entry:
    """An entry that only deletes the items written by the entries named by `targets` (eids)."""
    ranges = [(client_id(*_split(t)), 0, 1) for t in targets]
    return craft_entry(log, identity, KIND_YJS, encode_delete_update(ranges), **kw)


def control_entry(log: RoomLog, identity: SigningKey, op: str, *, deps: tuple[bytes, ...] | None = None,
                  seq: int | None = None, prev: bytes | None = None, **args: Any) -> Entry:
    """A crafted control entry (its `ts` defaults to the newest time among the deps it names)."""
    if deps is None:
        deps = tuple(sorted(log.frontier))
    args.setdefault("ts", log.graph.time_bound(deps) if deps else 0)
    if op in ("role", "remove") and "after_seq" not in args and isinstance(args.get("member"), str):
        args["after_seq"] = log.head(bytes.fromhex(args["member"]))
    return craft_entry(log, identity, KIND_CONTROL, ControlOp(op, args).encode(), deps=deps, seq=seq, prev=prev)


def doc_state(doc: Doc) -> dict[str, Any]:
    """Every root map of a room document as plain data."""
    return {root: doc.get(root, type=Map).to_py() or {} for root in ROOTS}


def visible(log: RoomLog, channels: Sequence[str] = ("general",), now_ms: float | None = None,
            view: RoomView | None = None) -> list[tuple[Any, ...]]:
    """What a user sees, per channel, from `view` or a fresh RoomView: comparable across replicas."""
    if view is None:
        view = log.view()
    out: list[tuple[Any, ...]] = []
    for ch in channels:
        for m in view.history(ch, now_ms=now_ms):
            out.append((ch, m.id, m.text, m.deleted, m.pinned, tuple(e.text for e in m.edits),
                        tuple(sorted((k, tuple(sorted(v))) for k, v in m.reactions.items())), m.reply_to, m.thread))
    return out


# ----- in-memory sync -------------------------------------------------------------------------------


@dataclass
class Replica:
    """One node's copy of a room: its validated log and the entries it can serve."""

    name: str
    log: RoomLog
    identity: SigningKey | None = None
    source: MemorySource = field(default_factory=MemorySource)
    rejected: list[tuple[Entry, str]] = field(default_factory=list)

    def ingest(self, entries: Iterable[Entry]) -> IngestResult:
        result = self.log.ingest(entries)
        self.source.add(result.accepted)
        self.rejected += result.rejected
        return result

    def local(self, result: IngestResult) -> None:
        """Record the outcome of a local `write_*` so it can be served to peers."""
        self.source.add(result.accepted)

    def write(self, root: str, value: dict[str, Any], delete: Iterable[str] = ()) -> str:
        """A local write by this replica's person, validated like any other entry."""
        assert self.identity is not None
        key, result = self.log.write_value(self.identity, root, value, delete)
        self.local(result)
        return key

    def post(self, text: str, channel: str = "general", ts: float = 1000.0, **extra: Any) -> str:
        return self.write("m", {"c": channel, "t": text, "ts": ts, **extra})


def replica_of(name: str, room_id: bytes, key: bytes, genesis: Entry, identity: SigningKey | None = None) -> Replica:
    log = RoomLog(room_id, {room_id: key}, identity)
    log.clock = lambda: 0.0
    r = Replica(name, log, identity)
    r.ingest([genesis])
    return r


def party(roles: Sequence[str]) -> list[Replica]:
    """Replica 0 is the owner's; one more replica per role in `roles`, each a member the owner added,
    with the membership already spread to every replica."""
    owner = SigningKey.generate()
    log, genesis, key = new_room(owner)
    first = Replica("r0", log, owner)
    first.source.add([genesis])
    replicas = [first]
    for i, role in enumerate(roles, 1):
        who = SigningKey.generate()
        first.local(add_member(log, owner, who, role, name=f"p{i}"))
        replicas.append(replica_of(f"r{i}", log.room_id, key, genesis, who))
    exchange_all(replicas)
    assert all(r.log.heads() == first.log.heads() for r in replicas)
    return replicas


@dataclass
class LossyLink:
    """Two replicas joined by a link that drops, duplicates and reorders frames."""

    a: Replica
    b: Replica
    rng: random.Random
    loss: float = 0.0
    dup: float = 0.0
    reorder: bool = False
    max_frame: int = 256 * 1024
    frames_seen: list[int] = field(default_factory=list)
    dropped: int = 0
    duplicated: int = 0
    bad_frames: int = 0

    def __post_init__(self) -> None:
        self.pa = SyncProtocol(self.a.source, max_frame=self.max_frame, batch_entries=7)
        self.pb = SyncProtocol(self.b.source, max_frame=self.max_frame, batch_entries=7)

    def _carry(self, frames: list[bytes]) -> list[bytes]:
        out = []
        for f in frames:
            self.frames_seen.append(len(f))
            if self.rng.random() < self.loss:
                self.dropped += 1
                continue
            out.append(f)
            if self.rng.random() < self.dup:
                self.duplicated += 1
                out.append(f)
        if self.reorder:
            self.rng.shuffle(out)
        return out

    def _deliver(self, proto: SyncProtocol, replica: Replica, frames: list[bytes]) -> None:
        for f in frames:
            event = proto.receive(f)
            if isinstance(event, EntriesReceived):
                replica.ingest(event.entries)
            elif not hasattr(event, "heads"):
                self.bad_frames += 1

    def round(self, reopen: bool) -> bool:
        """One exchange in both directions; `reopen` restarts it with a heads exchange. Returns whether anything moved."""
        if reopen:
            self.pa.open()
            self.pb.open()
        moved = False
        for _ in range(50):
            fa = self.pa.data_to_send(4) if self.pa.has_data() else []
            fb = self.pb.data_to_send(4) if self.pb.has_data() else []
            if not fa and not fb:
                break
            moved = True
            self._deliver(self.pb, self.b, self._carry(fa))
            self._deliver(self.pa, self.a, self._carry(fb))
        return moved

    def settle(self, rounds: int = 200) -> None:
        """Run rounds (reopening each time, as a periodic retransmit) until both replicas hold the same heads."""
        for _ in range(rounds):
            self.round(reopen=True)
            if self.a.log.heads() == self.b.log.heads() and not self.a.log.pending and not self.b.log.pending:
                return


def exchange_all(replicas: Sequence[Replica], max_rounds: int = 20) -> None:
    """Reliable full exchange between every pair until nothing changes."""
    rng = random.Random(0)
    for _ in range(max_rounds):
        before = [r.log.heads() for r in replicas]
        for i in range(len(replicas)):
            for j in range(i + 1, len(replicas)):
                link = LossyLink(replicas[i], replicas[j], rng)
                link.round(reopen=True)
        if [r.log.heads() for r in replicas] == before:
            return
