"""Control operations (membership, roles, invites, key rotations) and what each one does to the control state.

A control operation is canonical JSON inside an entry. `parse_op` checks its shape
once, when the entry arrives (a malformed operation is a rejected entry). `apply_op`
is the authority rule: given the control state resolved so far (see `crdt/resolve.py`)
it either changes the state and says how (an `Effect`) or raises `DecodeError` with
the reason, leaving the state as it was.

Authority belongs to a *member*; signatures belong to an *author* (an entry key).
Today a member is one author (`member_of` is the identity); multi-device will map
several author keys to one member here without touching the resolution rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from .errors import DecodeError
from .jsonsafe import canonical_json, loads_canonical
from .schema import MAX_NAME, Role

MAX_CONTROL_SIZE = 64 * 1024
MAX_INVITE_USES = 1000
MAX_ROTATION_MEMBERS = 1000
ROTATING_OPS = frozenset(("remove", "rekey"))
OPS = frozenset(("genesis", "name", "public", "invite", "add", "role", "remove", "rekey"))


def member_of(author: bytes) -> bytes:
    """The member an author key acts for (one key per member until multi-device)."""
    return author


def key_commitment(key: bytes) -> bytes:
    """What a rotation publishes about its new key, so a key handed over later can be checked."""
    return hashlib.blake2b(key, digest_size=32, person=b"hubbub-keycommit").digest()


@dataclass(frozen=True, slots=True)
class Rotation:
    """A new room key: its commitment, and the key sealed to each member who should hold it."""

    commit: bytes
    sealed: dict[bytes, bytes]


@dataclass(frozen=True, slots=True)
class ControlOp:
    """A decoded control operation: `op` names it, `args` holds its fields."""

    op: str
    args: dict[str, Any]

    def encode(self) -> bytes:
        return canonical_json({"op": self.op, **self.args})

    @classmethod
    def decode(cls, raw: bytes) -> ControlOp:
        """Parse canonical JSON (anything that would not re-encode to the same bytes is refused)."""
        if len(raw) > MAX_CONTROL_SIZE:
            raise DecodeError("control operation is too large")
        obj = loads_canonical(raw, "control operation")
        if not isinstance(obj, dict) or not isinstance(obj.get("op"), str):
            raise DecodeError("control operation has no op")
        op = obj.pop("op")
        return cls(op, obj)

    @property
    def ts(self) -> int:
        value = self.args.get("ts")
        return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True, slots=True)
class ParsedOp:
    """A control operation whose shape was checked: what the resolution needs, typed."""

    op: str
    ts: int
    target: bytes | None = None       # the member an add, role or remove is about
    role: Role | None = None          # the role an add or role change gives
    after_seq: int | None = None      # role/remove: the target's last entry the author had seen
    rotation: Rotation | None = None  # remove/rekey: the new key
    args: dict[str, Any] = field(default_factory=dict)


def _hex_key(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise DecodeError(f"{what} is not a 32-byte hex key")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise DecodeError(f"{what} is not a hex key") from exc


def _int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _rotation(value: Any) -> Rotation:
    if not isinstance(value, dict) or set(value) != {"commit", "keys"} or not isinstance(value["keys"], dict):
        raise DecodeError("bad key rotation")
    if len(value["keys"]) > MAX_ROTATION_MEMBERS:
        raise DecodeError("key rotation seals to too many members")
    sealed: dict[bytes, bytes] = {}
    for member, box in value["keys"].items():
        if not isinstance(box, str) or len(box) > 512:
            raise DecodeError("bad sealed key")
        try:
            sealed[_hex_key(member, "rotation member")] = bytes.fromhex(box)
        except ValueError as exc:
            raise DecodeError("bad sealed key") from exc
    return Rotation(_hex_key(value["commit"], "key commitment"), sealed)


def parse_op(op: ControlOp) -> ParsedOp:
    """Check an operation's shape (not its authority); raises DecodeError with the reason."""
    a = op.args
    if op.op not in OPS:
        raise DecodeError(f"unknown control operation {op.op!r}")
    raw_ts = a.get("ts")
    if not _int(raw_ts) or not 0 <= raw_ts < 1 << 53:
        raise DecodeError("control operation has no time")
    ts: int = raw_ts
    if op.op == "genesis":
        if not isinstance(a.get("name"), str) or len(a["name"]) > MAX_NAME:
            raise DecodeError("genesis has a bad room name")
        return ParsedOp(op.op, ts, role=Role.OWNER, args=a)
    if op.op == "name":
        name = a.get("name")
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            raise DecodeError("bad display name")
        return ParsedOp(op.op, ts, args=a)
    if op.op == "public":
        if not isinstance(a.get("on"), bool):
            raise DecodeError("public needs on: true or false")
        return ParsedOp(op.op, ts, args=a)
    if op.op == "invite":
        iid, expires, uses = a.get("id"), a.get("expires_ms"), a.get("uses", 1)
        if not isinstance(iid, str) or not 8 <= len(iid) <= 64:
            raise DecodeError("bad invite id")
        if expires is not None and not _int(expires):
            raise DecodeError("invite has a bad expiry")
        if not _int(uses) or not 1 <= uses <= MAX_INVITE_USES:
            raise DecodeError("invite has a bad number of uses")
        _hex_key(a.get("key"), "invite key")
        return ParsedOp(op.op, ts, args=a)
    if op.op == "rekey":
        answers = a.get("for", [])
        if not isinstance(answers, list) or len(answers) > 64:
            raise DecodeError("rekey names a bad list of reasons")
        for h in answers:
            _hex_key(h, "rekey reason")
        return ParsedOp(op.op, ts, rotation=_rotation(a.get("rotate")), args=a)
    target = _hex_key(a.get("member"), "member")
    if op.op == "add":
        try:
            role = Role.parse(str(a.get("role", "member")))
        except KeyError as exc:
            raise DecodeError("unknown role") from exc
        if "invite" in a and not isinstance(a["invite"], str):
            raise DecodeError("add names a bad invite")
        return ParsedOp(op.op, ts, target=target, role=role, args=a)
    after = a.get("after_seq")
    if op.op == "role":
        try:
            role = Role.parse(str(a.get("role")))
        except KeyError as exc:
            raise DecodeError("unknown role") from exc
        if not _int(after) or after < -1:
            raise DecodeError("role change has no after_seq")
        return ParsedOp(op.op, ts, target=target, role=role, after_seq=after, args=a)
    # remove
    if not _int(after) or after < -1:
        raise DecodeError("removal has no after_seq")
    rotation = _rotation(a["rotate"]) if "rotate" in a else None
    return ParsedOp(op.op, ts, target=target, after_seq=after, rotation=rotation, args=a)


@dataclass(frozen=True, slots=True)
class Member:
    role: Role
    name: str = ""
    since: int = 0  # position in the resolved order where the membership began (seniority)


@dataclass(frozen=True, slots=True)
class Invite:
    key: bytes
    expires_ms: int | None  # None: never expires
    created_by: bytes
    uses: int = 1
    used_by: tuple[bytes, ...] = ()

    @property
    def exhausted(self) -> bool:
        return len(self.used_by) >= self.uses


@dataclass(slots=True)
class ControlState:
    """Who may do what in a room: the result of resolving its control operations (or a prefix of them)."""

    name: str = ""
    owner: bytes = b""
    members: dict[bytes, Member] = field(default_factory=dict)
    former: dict[bytes, Member] = field(default_factory=dict)  # removed members, for their names
    invites: dict[str, Invite] = field(default_factory=dict)
    public: bool = False  # anyone on the LAN may join without an invite

    def role_of(self, author: bytes) -> Role | None:
        """The role of the member `author` acts for, or None when it is not a current member."""
        m = self.members.get(member_of(author))
        return None if m is None else m.role

    def active_members(self) -> list[bytes]:
        return list(self.members)

    def copy(self) -> ControlState:
        return ControlState(self.name, self.owner, dict(self.members), dict(self.former), dict(self.invites), self.public)


@dataclass(frozen=True, slots=True)
class Effect:
    """How an applied operation changed a member's standing (for that member's timeline)."""

    member: bytes
    role: Role | None          # the role afterwards; None: no longer a member
    after_seq: int | None      # a removal or demotion voids the member's entries after this one...
    restricting: bool          # ...when it took authority away


def apply_op(state: ControlState, author: bytes, p: ParsedOp, position: int) -> Effect | None:
    """Apply `p` by `author` to `state` (in place) if the author may; raise DecodeError, unchanged, if not."""
    if p.op == "genesis":
        if state.owner:
            raise DecodeError("room already has a genesis")
        state.name = str(p.args["name"])
        state.owner = member_of(author)
        state.members[state.owner] = Member(Role.OWNER, str(p.args.get("member_name", ""))[:MAX_NAME], position)
        return Effect(state.owner, Role.OWNER, None, False)
    me = member_of(author)
    role = state.role_of(author)
    if role is None:
        raise DecodeError("author is not a member")
    if p.op == "name":
        old = state.members[me]
        state.members[me] = Member(old.role, str(p.args["name"]), old.since)
        return None
    if p.op == "public":
        if role < Role.ADMIN:
            raise DecodeError("only an admin may make a room public or private")
        state.public = bool(p.args["on"])
        return None
    if p.op == "invite":
        iid = str(p.args["id"])
        if iid in state.invites:
            raise DecodeError("reused invite id")
        state.invites[iid] = Invite(bytes.fromhex(p.args["key"]), p.args.get("expires_ms"), me, int(p.args.get("uses", 1)))
        return None
    if p.op == "rekey":
        return None
    assert p.target is not None
    target = p.target
    if p.op == "add":
        return _add(state, role, p, target, position)
    current = state.members.get(target)
    if current is None:
        raise DecodeError(f"{p.op} of a non-member")
    if p.op == "role":
        assert p.role is not None
        if role < Role.ADMIN or current.role >= role or p.role >= role:
            raise DecodeError("role change needs a higher role than both the old and the new one")
        state.members[target] = Member(p.role, current.name, current.since)
        return Effect(target, p.role, p.after_seq, p.role < current.role)
    # remove
    if current.role == Role.OWNER:
        raise DecodeError("the owner cannot be removed")
    if target != me and (role < Role.ADMIN or current.role >= role):
        raise DecodeError("only a higher-ranked admin may remove a member")
    del state.members[target]
    state.former[target] = current
    return Effect(target, None, p.after_seq, True)


def _add(state: ControlState, role: Role, p: ParsedOp, target: bytes, position: int) -> Effect:
    assert p.role is not None
    if p.role == Role.OWNER:
        raise DecodeError("nobody can be added as owner")
    if target in state.members:
        raise DecodeError("already a member")
    iid = p.args.get("invite")
    if iid is not None:
        invite = state.invites.get(iid)
        if invite is None:
            raise DecodeError("add names an unknown invite")
        if invite.exhausted:
            raise DecodeError("invite was already used")
        if invite.expires_ms is not None and p.ts > invite.expires_ms:
            raise DecodeError("invite had expired")
        if p.role != Role.MEMBER:
            raise DecodeError("an invite admits members only")
        state.invites[iid] = Invite(invite.key, invite.expires_ms, invite.created_by, invite.uses, invite.used_by + (target,))
    elif p.args.get("public") is True:
        if not state.public or p.role != Role.MEMBER:
            raise DecodeError("only a public room admits members without an invite")
    elif role < Role.ADMIN or p.role >= role:
        raise DecodeError("only an admin may add members without an invite")
    state.former.pop(target, None)
    state.members[target] = Member(p.role, str(p.args.get("name", ""))[:MAX_NAME], position)
    return Effect(target, p.role, None, False)
