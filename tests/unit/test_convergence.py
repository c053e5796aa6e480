"""Property: five replicas doing random things, with random lossy delivery, end with identical views."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from crdt.control import ControlOp
from crdt.entry import NO_HASH, Entry
from crdt.errors import NotAMember, PermissionDenied
from crdt.schema import CHANNELS, DELETES, EDITS, MESSAGES, PINS, REACTIONS, client_id, short_id
from crdt.view import RoomView
from tests.helpers import LossyLink, Replica, add_member, doc_state, exchange_all, party, pub, value_entry, visible

ROLES = ["admin", "moderator", "member", "member"]  # replica 0 is the owner's
OPS = ["post", "post", "reply", "edit", "react", "unreact", "delete", "pin", "channel", "role", "rogue", "sync", "sync"]
EMOJI = ["👍", "🎉", "❤️"]


@dataclass
class Rogue:
    """A member with no replica of its own who hands crafted entries, valid or not, straight to one replica."""

    key: SigningKey = field(default_factory=SigningKey.generate)
    sent: list[Entry] = field(default_factory=list)

    def craft(self, target: Replica, valid: bool, pick: int, messages: list[str]) -> Entry:
        seq = len(self.sent)
        prev = self.sent[-1].hash if self.sent else NO_HASH
        deps = tuple(sorted(target.log.frontier))
        kind = pick % 4
        # Only other members' messages: editing or deleting its own is the rogue's right.
        own = short_id(bytes(self.key.verify_key))
        messages = [m for m in messages if not m.startswith(own)]
        if valid or not messages and kind in (0, 1):
            value = {"c": "general", "t": f"rogue {seq}", "ts": 3000.0 + seq}
            e = value_entry(target.log, self.key, MESSAGES, value, seq=seq, prev=prev, deps=deps)
        elif kind == 0:  # edit someone else's message
            e = value_entry(target.log, self.key, EDITS, {"m": messages[pick % len(messages)], "t": "hijacked", "ts": 1.0},
                            seq=seq, prev=prev, deps=deps)
        elif kind == 1:  # delete someone else's message item
            target_id = messages[pick % len(messages)]
            e = value_entry(target.log, self.key, DELETES, {"m": target_id, "ts": 1.0}, delete=[target_id],
                            seq=seq, prev=prev, deps=deps)
        elif kind == 2:  # create a channel without being an admin
            e = value_entry(target.log, self.key, CHANNELS, {"id": "rogue", "n": "rogue"}, seq=seq, prev=prev, deps=deps)
        else:  # a message written with somebody else's Yjs client id
            e = value_entry(target.log, self.key, MESSAGES, {"c": "general", "t": "forged", "ts": 1.0},
                            client=client_id("AAAAAAAA", seq), seq=seq, prev=prev, deps=deps)
        self.sent.append(e)
        return e


def _messages(r: Replica) -> list[str]:
    return sorted(k for k, v in r.log.maps[MESSAGES].items() if isinstance(v, dict))


def _act(replicas: list[Replica], rogue: Rogue, op: str, who: int, pick: int, salt: int, refused: list[str]) -> None:
    r = replicas[who]
    msgs = _messages(r)
    target = msgs[pick % len(msgs)] if msgs else None
    heads_before = r.log.heads()
    try:
        if op == "post":
            r.post(f"{r.name} says {salt}", ts=1000.0 + salt)
        elif op == "reply" and target:
            r.post(f"re {salt}", ts=1000.0 + salt, r=target, th=target)
        elif op == "edit" and target:
            r.write(EDITS, {"m": target, "t": f"edit {salt}", "ts": 2000.0 + salt})
        elif op == "react" and target:
            r.write(REACTIONS, {"m": target, "e": EMOJI[salt % 3]})
        elif op == "unreact":
            mine = sorted(k for k, v in r.log.maps[REACTIONS].items() if k.startswith(short_id(pub(r.identity))))  # type: ignore[arg-type]
            if mine:
                r.local(r.log.write_deletes(r.identity, [mine[pick % len(mine)]]))  # type: ignore[arg-type]
        elif op == "delete" and target:
            original = r.log.maps[MESSAGES][target]
            r.write(DELETES, {"m": target, "c": original["c"], "ots": original["ts"], "ts": 4000.0 + salt}, delete=[target])
        elif op == "pin" and target:
            r.write(PINS, {"m": target, "ts": 5000.0 + salt})
        elif op == "channel":
            r.write(CHANNELS, {"id": f"ch{salt % 3}", "n": f"channel {salt}", "k": "text", "ts": float(salt)})
        elif op == "role":
            member = replicas[3 + pick % 2].identity
            r.local(r.log.write_control(r.identity, ControlOp(  # type: ignore[arg-type]
                "role", {"member": pub(member).hex(), "role": "moderator" if salt % 2 else "member"})))  # type: ignore[arg-type]
        elif op == "rogue":
            r.ingest([rogue.craft(r, valid=salt % 3 == 0, pick=pick, messages=msgs)])
        elif op == "sync":
            other = replicas[(who + 1 + pick % (len(replicas) - 1)) % len(replicas)]
            link = LossyLink(r, other, random.Random(salt), loss=0.3, dup=0.3, reorder=True, max_frame=1500)
            link.round(reopen=True)
    except (PermissionDenied, NotAMember) as exc:
        refused.append(str(exc))
        assert r.log.heads() == heads_before, "a refused local write changed the log"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 4), st.integers(0, 40), st.integers(0, 10_000)),
                    min_size=25, max_size=60))
def test_five_replicas_converge(ops: list[tuple[str, int, int, int]]) -> None:
    replicas = party(ROLES)
    rogue = Rogue()
    replicas[0].local(add_member(replicas[0].log, replicas[0].identity, rogue.key))  # type: ignore[arg-type]
    live = [r.log.view() for r in replicas]  # open all along, as a running node's
    refused: list[str] = []
    for op, who, pick, salt in ops:
        _act(replicas, rogue, op, who, pick, salt, refused)
    exchange_all(replicas, max_rounds=30)

    first = replicas[0]
    heads = first.log.heads()
    for r in replicas[1:]:
        assert r.log.heads() == heads, f"{r.name} did not receive everything"
    states = [doc_state(r.log.doc) for r in replicas]
    assert all(s == states[0] for s in states[1:])
    channels = ["general", "ch0", "ch1", "ch2"]
    views = [visible(r.log, channels) for r in replicas]
    assert all(v == views[0] for v in views[1:])
    for r, view in zip(replicas, live):
        assert visible(r.log, channels, view=view) == views[0], f"{r.name}'s live view differs from a rebuilt one"
    roles = [{k: m.role for k, m in r.log.state().members.items()} for r in replicas]
    assert all(x == roles[0] for x in roles[1:])
    # nothing a rogue crafted against the rules is visible anywhere
    for r in replicas:
        view = RoomView(r.log.doc)
        assert "rogue" not in [c.id for c in view.channels()]
        assert all(m.text not in ("hijacked", "forged") for m in view.history("general"))
    wrote = sum(1 for op, *_ in ops if op == "post")
    if wrote:
        assert views[0], "posts were made but nobody sees a message"
