"""A room's members acting concurrently, honestly or not, to generate hostile histories for the trust tests.

Every person has its own replica (`RoomLog`) and acts from what it knows: honest writes go through
the replica (refused when it lacks the authority), a *liar* signs entries that name an old frontier
as their `deps`, an *equivocator* signs two different entries with one sequence number. People only
exchange entries within their side of a partition. What everyone ever signed ends up in `entries`.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from crdt.cipher import new_room_key, seal_to_member
from crdt.control import ControlOp, key_commitment
from crdt.entry import Entry
from crdt.errors import NotAMember, PermissionDenied
from crdt.room import KIND_YJS, RoomLog, genesis_entry
from crdt.schema import CHANNELS, DELETES, EDITS, MESSAGES, PINS, REACTIONS, SETTINGS, client_id, eid, short_id
from tests.helpers import control_entry, craft_entry, value_entry, yjs_insert

NOW = 10_000_000.0
ROLES = ("admin", "moderator", "member")
EMOJI = ("👍", "🎉")
RELAYS = ("hubbub-relay://a.example:7447", "hubbub-relay://b.example:7447", "hubbub-relay+tls://c.example")


@dataclass
class Person:
    name: str
    key: SigningKey
    log: RoomLog
    held: dict[bytes, Entry] = field(default_factory=dict)
    frontiers: list[tuple[bytes, ...]] = field(default_factory=list)  # frontiers seen, for lying

    @property
    def pub(self) -> bytes:
        return bytes(self.key.verify_key)

    def hold(self, entries: list[Entry]) -> None:
        for e in entries:
            self.held[e.hash] = e
        if self.log.frontier and (not self.frontiers or self.frontiers[-1] != self.log.frontier):
            self.frontiers.append(self.log.frontier)


class Sim:
    """One room and the people in it."""

    def __init__(self, rng: random.Random, members: int = 4) -> None:
        self.rng = rng
        self.entries: dict[bytes, Entry] = {}
        self.lies: set[bytes] = set()  # entries signed with a stale frontier on purpose
        self.keys: dict[bytes, bytes] = {}  # every room key ever made
        self.sealed_to: dict[bytes, set[bytes]] = {}  # rotation -> who it was sealed to (grants included)
        owner = SigningKey.generate()
        key = new_room_key()
        g = genesis_entry(owner, key, "sim", "owner", ts_ms=0)
        self.room_id = g.hash
        self.keys[g.hash] = key
        self.people: list[Person] = []
        first = self._person("p0", owner, {g.hash: key})
        self._record(first, first.log.ingest([g], now_ms=NOW).accepted)
        self.partition: list[set[int]] = [{0}]
        self.write(first, CHANNELS, {"id": "general", "n": "general", "k": "text", "ts": 1.0})
        for i in range(1, members):
            who = SigningKey.generate()
            self.honest(first, "add", {"member": bytes(who.verify_key).hex(), "role": ROLES[(i - 1) % len(ROLES)],
                                       "name": f"p{i}"})
            self._join(first, who, f"p{i}")
        self.partition: list[set[int]] = [set(range(len(self.people)))]

    # ----- bookkeeping ------------------------------------------------------------------------------------

    def _person(self, name: str, key: SigningKey, keys: dict[bytes, bytes]) -> Person:
        log = RoomLog(self.room_id, keys, key)
        log.clock = lambda: NOW
        p = Person(name, key, log)
        self.people.append(p)
        for r in keys:
            self.sealed_to.setdefault(r, set()).add(p.pub)
        return p

    def _record(self, p: Person, accepted: list[Entry]) -> None:
        for e in accepted:
            self.entries[e.hash] = e
        p.hold(accepted)
        # everything the person's replica holds of its own is known to the simulation
        for e in p.log.pending.entries():
            self.entries.setdefault(e.hash, e)

    def _join(self, admitter: Person, who: SigningKey, name: str) -> Person:
        """A joiner gets every key its admitter holds (a grant), then the admitter's entries."""
        p = self._person(name, who, admitter.log.keys.as_dict())
        self.deliver(p, list(admitter.held.values()))
        if self.partition:
            for side in self.partition:
                if self.people.index(admitter) in side:
                    side.add(len(self.people) - 1)
        return p

    def deliver(self, p: Person, entries: list[Entry]) -> None:
        entries = list(entries)
        self.rng.shuffle(entries)
        result = p.log.ingest(entries, now_ms=NOW)
        p.hold(result.accepted)
        for r, k in self.keys.items():  # a member who lacks a key asks a peer for it (a KeyRequest)
            if r not in p.log.keys and p.log.state().role_of(p.pub) is not None and r in p.log.waiting_for_keys():
                if p.log.add_key(r, k):
                    self.sealed_to.setdefault(r, set()).add(p.pub)
                    again = p.log.retry_pending(("key", r), NOW)
                    p.hold(again.accepted)

    # ----- actions ------------------------------------------------------------------------------------------

    def _rekey_first(self, p: Person) -> None:
        """What the app does before any write: if someone left or a lost invite race left the key exposed, rotate."""
        if p.log.rekey_reasons() and p.log.state().role_of(p.pub) is not None:
            self.rotate(p, "rekey", {}, None)

    def honest(self, p: Person, op: str, args: dict[str, Any]) -> bool:
        if op != "rekey" and "rotate" not in args:
            self._rekey_first(p)
        try:
            result = p.log.write_control(p.key, ControlOp(op, args))
        except (PermissionDenied, NotAMember):
            return False
        self._record(p, result.accepted)
        return True

    def write(self, p: Person, root: str, value: dict[str, Any], delete: list[str] | None = None) -> bool:
        self._rekey_first(p)
        try:
            _key, result = p.log.write_value(p.key, root, value, delete or [])
        except (PermissionDenied, NotAMember):
            return False
        self._record(p, result.accepted)
        return True

    def rotation(self, p: Person, exclude: bytes | None) -> dict[str, Any]:
        key = new_room_key()
        members = [m for m in p.log.state().active_members() if m != exclude]
        return {"commit": key_commitment(key).hex(), "keys": {m.hex(): seal_to_member(m, key).hex() for m in members},
                "_key": key, "_to": members}

    def rotate(self, p: Person, op: str, args: dict[str, Any], exclude: bytes | None) -> bool:
        rot = self.rotation(p, exclude)
        key, to = rot.pop("_key"), rot.pop("_to")
        args = dict(args, rotate=rot)
        if op == "rekey":
            args["for"] = [h.hex() for h in p.log.rekey_reasons()[:64]]
        if not self.honest(p, op, args):
            return False
        rotation = p.log.chains[p.pub][-1]
        self.keys[rotation] = key
        self.sealed_to.setdefault(rotation, set()).update(to)
        return True

    def messages(self, p: Person) -> list[str]:
        return sorted(k for k, v in p.log.maps[MESSAGES].items() if isinstance(v, dict))

    def act(self, kind: str, who: int, pick: int) -> None:
        """One action by person `who` (an index, wrapped), choosing targets by `pick`."""
        p = self.people[who % len(self.people)]
        others = [q for q in self.people if q is not p]
        target = others[pick % len(others)] if others else p
        msgs = self.messages(p)
        msg = msgs[pick % len(msgs)] if msgs else None
        ts = NOW + pick
        if kind == "post":
            self.write(p, MESSAGES, {"c": "general", "t": f"{p.name} {pick}", "ts": ts})
        elif kind == "edit" and msg:
            self.write(p, EDITS, {"m": msg, "t": f"edit {pick}", "ts": ts})
        elif kind == "react" and msg:
            self.write(p, REACTIONS, {"m": msg, "e": EMOJI[pick % 2]})
        elif kind == "pin" and msg:
            self.write(p, PINS, {"m": msg, "ts": ts})
        elif kind == "delete" and msg:
            value = p.log.maps[MESSAGES][msg]
            self.write(p, DELETES, {"m": msg, "c": value["c"], "ots": value["ts"], "ts": ts}, [msg])
        elif kind == "channel":
            self.write(p, CHANNELS, {"id": f"ch{pick % 3}", "n": f"channel {pick}", "k": "text", "ts": ts})
        elif kind == "relays":  # the room's relays (app/relay/settings.py): an admin's setting
            self.write(p, SETTINGS, {"rl": [RELAYS[pick % 3], RELAYS[(pick + 1) % 3]][: 1 + pick % 2], "ts": ts})
        elif kind == "forge_relays":
            self.forge_relays(p, pick)
        elif kind == "role":
            self.honest(p, "role", {"member": target.pub.hex(), "role": ROLES[pick % 3], "after_seq": p.log.head(target.pub)})
        elif kind == "remove":
            self.rotate(p, "remove", {"member": target.pub.hex(), "after_seq": p.log.head(target.pub)}, target.pub)
        elif kind == "leave":
            self.honest(p, "remove", {"member": p.pub.hex(), "after_seq": p.log.head(p.pub)})
        elif kind == "rekey" and p.log.rekey_reasons():
            self.rotate(p, "rekey", {}, None)
        elif kind == "invite_race":
            self.invite_race(p, pick)
        elif kind == "lie":
            self.lie(p, pick)
        elif kind == "equivocate":
            self.equivocate(p, pick)
        elif kind == "sync":
            self.sync(p, target)
        elif kind == "split":
            self.split(pick)
        elif kind == "heal":
            self.partition = [set(range(len(self.people)))]

    def invite_race(self, p: Person, pick: int) -> None:
        """`p` makes a single-use invite; two members redeem it at once for two different newcomers."""
        iid = secrets.token_urlsafe(9)
        if not self.honest(p, "invite", {"id": iid, "key": secrets.token_bytes(32).hex(), "expires_ms": None}):
            return
        admitters = [q for q in self.people if q.log.state().role_of(q.pub) is not None]
        first = p
        second = admitters[pick % len(admitters)]
        if second is not p:
            self.deliver(second, list(p.held.values()))
        for admitter in (first, second):
            newcomer = SigningKey.generate()
            if self.honest(admitter, "add", {"member": bytes(newcomer.verify_key).hex(), "role": "member", "invite": iid,
                                             "name": f"n{len(self.people)}"}):
                q = self._join(admitter, newcomer, f"n{len(self.people)}")
                self.write(q, MESSAGES, {"c": "general", "t": f"{q.name} joined", "ts": NOW})

    def lie(self, p: Person, pick: int) -> None:
        """Sign an entry that names an old frontier, claiming authority `p` may since have lost."""
        if not p.frontiers:
            return
        deps = p.frontiers[pick % len(p.frontiers)]
        others = [q for q in self.people if q is not p]
        target = others[pick % len(others)] if others else p
        try:
            choice = pick % 4
            if choice == 0:
                seq = p.log.head(p.pub) + 1
                update = yjs_insert(CHANNELS, eid(p.pub, seq), {"id": f"lie{pick % 2}", "n": "lie", "k": "text", "ts": NOW},
                                    client_id(short_id(p.pub), seq))
                e = craft_entry(p.log, p.key, KIND_YJS, update, deps=deps)
            elif choice == 1:
                e = control_entry(p.log, p.key, "remove", deps=deps, member=target.pub.hex(), after_seq=p.log.head(target.pub),
                                  ts=int(NOW))
            elif choice == 2:
                e = control_entry(p.log, p.key, "role", deps=deps, member=target.pub.hex(), role="member",
                                  after_seq=p.log.head(target.pub), ts=int(NOW))
            else:
                newcomer = SigningKey.generate()
                e = control_entry(p.log, p.key, "add", deps=deps, member=bytes(newcomer.verify_key).hex(), role="member",
                                  ts=int(NOW))
        except (AssertionError, KeyError):
            return  # it no longer holds the key of that old context
        result = p.log.ingest([e], now_ms=NOW)
        self.entries[e.hash] = e
        self.lies.add(e.hash)
        p.hold(result.accepted)

    def forge_relays(self, p: Person, pick: int) -> None:
        """Sign a relay setting whatever `p`'s role (a member pointing the room at its own relay), past its replica's check."""
        self._rekey_first(p)  # it forges the permission, not the key: a stale key is the `lie` action's business
        try:
            e = value_entry(p.log, p.key, SETTINGS, {"rl": [RELAYS[pick % 3]], "ts": NOW + pick})
        except (AssertionError, KeyError):
            return
        result = p.log.ingest([e], now_ms=NOW)
        self.entries[e.hash] = e
        p.hold(result.accepted)

    def equivocate(self, p: Person, pick: int) -> None:
        """Sign two different messages with one sequence number; `p` keeps one, the other goes out too."""
        try:
            one = craft_entry(p.log, p.key, KIND_YJS, self._message(p, "one", pick))
            two = craft_entry(p.log, p.key, KIND_YJS, self._message(p, "two", pick))
        except (AssertionError, KeyError):
            return
        result = p.log.ingest([one], now_ms=NOW)
        p.hold(result.accepted)
        self.entries[one.hash] = one
        self.entries[two.hash] = two
        others = [q for q in self.people if q is not p]
        if others:
            q = others[pick % len(others)]
            q.hold(q.log.ingest([two], now_ms=NOW).accepted)

    def _message(self, p: Person, text: str, pick: int) -> bytes:
        seq = p.log.head(p.pub) + 1
        return yjs_insert(MESSAGES, eid(p.pub, seq), {"c": "general", "t": f"{text} {pick}", "ts": NOW},
                          client_id(short_id(p.pub), seq))

    def sync(self, a: Person, b: Person) -> None:
        ia, ib = self.people.index(a), self.people.index(b)
        if not any(ia in side and ib in side for side in self.partition):
            return
        self.deliver(b, list(a.held.values()))
        self.deliver(a, list(b.held.values()))

    def split(self, pick: int) -> None:
        everyone = list(range(len(self.people)))
        self.rng.shuffle(everyone)
        cut = 1 + pick % max(1, len(everyone) - 1)
        self.partition = [set(everyone[:cut]), set(everyone[cut:])]
