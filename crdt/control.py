"""Control state: membership, roles, invites and key epochs, folded from control entries in causal order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import DecodeError
from .jsonsafe import loads_capped
from .schema import MAX_NAME, Role

MAX_CONTROL_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class ControlOp:
    """A decoded control operation: `op` names it, `args` holds its fields."""

    op: str
    args: dict[str, Any]

    def encode(self) -> bytes:
        return json.dumps({"op": self.op, **self.args}, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> ControlOp:
        obj = loads_capped(raw, DecodeError, max_size=MAX_CONTROL_SIZE, what="control operation")
        if not isinstance(obj, dict) or not isinstance(obj.get("op"), str):
            raise DecodeError("control operation has no op")
        op = obj.pop("op")
        return cls(op, obj)


@dataclass(frozen=True, slots=True)
class Member:
    role: Role
    name: str = ""
    removed_after: int | None = None  # entries with seq above this are no longer accepted


@dataclass(frozen=True, slots=True)
class Invite:
    key: bytes
    expires_ms: int
    created_by: bytes
    used_by: bytes | None = None


@dataclass(frozen=True, slots=True)
class ControlState:
    """Who may do what in a room at some point of its causal history."""

    name: str = ""
    owner: bytes = b""
    epoch: int = 0
    members: dict[bytes, Member] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    sealed_keys: dict[int, dict[bytes, bytes]] = field(default_factory=dict)  # epoch -> member -> sealed key
    public: bool = False  # anyone on the LAN may join without an invite

    def role_of(self, author: bytes, seq: int | None = None) -> Role | None:
        """The role of `author` for its entry number `seq`, or None if it is not a member then."""
        m = self.members.get(author)
        if m is None:
            return None
        if m.removed_after is not None and (seq is None or seq > m.removed_after):
            return None
        return m.role

    def active_members(self) -> list[bytes]:
        return [k for k, m in self.members.items() if m.removed_after is None]


def _hex_key(value: Any, what: str) -> bytes:
    try:
        key = bytes.fromhex(value)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"{what} is not a hex key") from exc
    if len(key) != 32:
        raise DecodeError(f"{what} is not a 32-byte key")
    return key


def apply_op(state: ControlState, author: bytes, seq: int, op: ControlOp, ts_ms: int | None = None) -> ControlState:
    """The state after `author` performs `op`; raises DecodeError with the reason when it is not allowed."""
    a = op.args
    if op.op == "genesis":
        if state.owner:
            raise DecodeError("room already has a genesis")
        name = a.get("name")
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise DecodeError("genesis has a bad room name")
        member_name = a.get("member_name", "")
        return ControlState(name=name, owner=author, members={author: Member(Role.OWNER, str(member_name)[:MAX_NAME])})
    role = state.role_of(author, seq)
    if role is None:
        raise DecodeError("author is not a member")
    members = dict(state.members)
    if op.op == "name":
        name = a.get("name")
        if not isinstance(name, str) or not name or len(name) > MAX_NAME:
            raise DecodeError("bad display name")
        members[author] = replace(members[author], name=name)
        return replace(state, members=members)
    if op.op == "public":
        if role < Role.ADMIN or not isinstance(a.get("on"), bool):
            raise DecodeError("only an admin may make a room public or private")
        return replace(state, public=a["on"])
    if op.op == "invite":
        iid, expires = a.get("id"), a.get("expires_ms")
        if not isinstance(iid, str) or not 8 <= len(iid) <= 64 or iid in state.invites:
            raise DecodeError("bad or reused invite id")
        if not isinstance(expires, int):
            raise DecodeError("invite has no expiry")
        invites = dict(state.invites)
        invites[iid] = Invite(_hex_key(a.get("key"), "invite key"), expires, author)
        return replace(state, invites=invites)
    if op.op == "add":
        member = _hex_key(a.get("member"), "member")
        try:
            new_role = Role.parse(str(a.get("role", "member")))
        except KeyError as exc:
            raise DecodeError("unknown role") from exc
        if new_role == Role.OWNER:
            raise DecodeError("nobody can be added as owner")
        existing = state.members.get(member)
        if existing is not None and existing.removed_after is None:
            raise DecodeError("already a member")
        invites = dict(state.invites)
        iid = a.get("invite")
        if iid is not None:
            invite = state.invites.get(iid) if isinstance(iid, str) else None
            if invite is None:
                raise DecodeError("add names an unknown invite")
            if invite.used_by is not None:
                raise DecodeError("invite was already used")
            if not isinstance(a.get("ts_ms"), int) or a["ts_ms"] > invite.expires_ms:
                raise DecodeError("invite had expired")
            if new_role != Role.MEMBER:
                raise DecodeError("an invite admits members only")
            invites[iid] = replace(invite, used_by=member)
        elif a.get("public") is True:
            if not state.public or new_role != Role.MEMBER:
                raise DecodeError("only a public room admits members without an invite")
        elif role < Role.ADMIN or new_role >= role:
            raise DecodeError("only an admin may add members without an invite")
        name = a.get("name", "")
        members[member] = Member(new_role, str(name)[:MAX_NAME])
        return replace(state, members=members, invites=invites)
    if op.op == "role":
        member = _hex_key(a.get("member"), "member")
        try:
            new_role = Role.parse(str(a.get("role")))
        except KeyError as exc:
            raise DecodeError("unknown role") from exc
        target = state.members.get(member)
        if target is None or target.removed_after is not None:
            raise DecodeError("role change for a non-member")
        if role < Role.ADMIN or target.role >= role or new_role >= role:
            raise DecodeError("role change needs a higher role than both the old and the new one")
        members[member] = replace(target, role=new_role)
        return replace(state, members=members)
    if op.op == "remove":
        member = _hex_key(a.get("member"), "member")
        target = state.members.get(member)
        after = a.get("after_seq")
        if target is None or target.removed_after is not None:
            raise DecodeError("removal of a non-member")
        if not isinstance(after, int) or after < 0:
            raise DecodeError("removal has no after_seq")
        if member != author and (role < Role.ADMIN or target.role >= role):
            raise DecodeError("only a higher-ranked admin may remove a member")
        if target.role == Role.OWNER:
            raise DecodeError("the owner cannot be removed")
        members[member] = replace(target, removed_after=after)
        new_state = replace(state, members=members)
        return _rotate(new_state, a.get("rotate"))
    raise DecodeError(f"unknown control operation {op.op!r}")


def _rotate(state: ControlState, rotate: Any) -> ControlState:
    """Move to a new key epoch whose key is sealed to each remaining member."""
    if rotate is None:
        return state
    if not isinstance(rotate, dict) or rotate.get("epoch") != state.epoch + 1 or not isinstance(rotate.get("keys"), dict):
        raise DecodeError("bad key rotation")
    sealed: dict[bytes, bytes] = {}
    for k, v in rotate["keys"].items():
        member = _hex_key(k, "rotation member")
        try:
            sealed[member] = bytes.fromhex(v)
        except (TypeError, ValueError) as exc:
            raise DecodeError("bad sealed key") from exc
    all_keys = dict(state.sealed_keys)
    all_keys[state.epoch + 1] = sealed
    return replace(state, epoch=state.epoch + 1, sealed_keys=all_keys)
