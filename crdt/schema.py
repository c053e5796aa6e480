"""The room document's shape: root maps, entry-derived keys and Yjs client ids, and value rules.

Every write inserts exactly one value under a fresh key derived from the entry
that writes it (`eid`), with the Yjs client id derived from the same entry
(`client_id`). Changes to existing things are new values that point at their
target; removals are Yjs deletes of the items being removed. So an update says,
by itself, who wrote what, which is what validation needs.
"""

from __future__ import annotations

import base64
import hashlib
from enum import IntEnum
from typing import Any

from .attachments import attachment_problem, attachments_problem

SHORT_SIZE = 6
SHORT_CHARS = 8
MAX_TEXT = 16_000
MAX_NAME = 100
MAX_RELAYS = 4         # relays a room's settings may name
MAX_RELAY_URL = 512    # characters of one relay address
RELAY_SCHEMES = ("hubbub-relay://", "hubbub-relay+tls://")


class Role(IntEnum):
    """Member roles, ordered by what they may do."""

    MEMBER = 1
    MODERATOR = 2
    ADMIN = 3
    OWNER = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        return cls[name.upper()]


# Root maps of the room document.
MESSAGES = "m"   # eid -> {c: channel, t: text, ts, r?: reply-to eid, th?: thread root, f?: forward, ttl?, mn?: [mentioned shorts], a?: [file manifests] (crdt/attachments.py)}
EDITS = "e"      # eid -> {m: target eid, t: new text, ts}
DELETES = "x"    # eid -> {m: target eid, ts}
REACTIONS = "r"  # eid -> {m: target eid, e: emoji}
PINS = "p"       # eid -> {m: target eid, ts}
CHANNELS = "c"   # eid -> {id, n: name, k: text|voice, g?: category, ttl?, pos?, del?}
SETTINGS = "s"   # eid -> {n?: name, pub?: bool, tags?: [str], topic?: str, dm?: bool (a direct room of two), icon?: picture manifest, rl?: [relay url]}
ROOTS = (MESSAGES, EDITS, DELETES, REACTIONS, PINS, CHANNELS, SETTINGS)
ROOT_INDEX = {root: i for i, root in enumerate(ROOTS)}
ADMIN_ROOTS = frozenset((CHANNELS, SETTINGS))
TARGETED = frozenset((EDITS, DELETES, PINS))


def short_id(author: bytes) -> str:
    """The 8-character form of a member's key used inside ids."""
    return base64.urlsafe_b64encode(author[:SHORT_SIZE]).decode("ascii")


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_PAIRS = [a + b for a in _DIGITS for b in _DIGITS]  # every two-digit group, "00" to "zz"


def b36(n: int) -> str:
    """`n` (>= 0) in base 36, the sequence part of an eid (on the path of every entry: two digits a step)."""
    if n < 36:
        return _DIGITS[n]
    if n < 1296:
        return _PAIRS[n]
    out = ""
    while n >= 1296:
        n, r = divmod(n, 1296)
        out = _PAIRS[r] + out
    return (_DIGITS[n] if n < 36 else _PAIRS[n]) + out if n else out


def eid(author: bytes, seq: int) -> str:
    """The id of what the entry (author, seq) writes: a message id, reaction id and so on."""
    return short_id(author) + b36(seq)


def split_eid(value: str) -> tuple[str, int] | None:
    """(author short id, seq) of an eid, or None if it is not one."""
    if not isinstance(value, str) or len(value) <= SHORT_CHARS or len(value) > SHORT_CHARS + 13:
        return None
    try:
        return value[:SHORT_CHARS], int(value[SHORT_CHARS:], 36)
    except ValueError:
        return None


def client_id(short: str, seq: int) -> int:
    """The Yjs client id that the entry (author, seq) must use: 53 bits, derived, never reused."""
    h = hashlib.blake2b(short.encode("ascii") + seq.to_bytes(8, "big"), digest_size=8).digest()
    return int.from_bytes(h, "big") >> 11


def _is_text(v: Any, limit: int = MAX_TEXT) -> bool:
    return isinstance(v, str) and len(v) <= limit


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) < 2**62


def _is_eid(v: Any) -> bool:
    return split_eid(v) is not None


def _relay_list(v: Any) -> bool:
    """A room's relays: distinct hubbub-relay addresses (the app reads each one strictly before using it)."""
    return (isinstance(v, list) and len(v) <= MAX_RELAYS and len(set(map(str, v))) == len(v)
            and all(_is_text(u, MAX_RELAY_URL) and u.lower().startswith(RELAY_SCHEMES) for u in v))


def value_problem(root: str, value: Any) -> str | None:
    """Why `value` is not acceptable under `root`, or None when it is."""
    if not isinstance(value, dict):
        return "value is not an object"
    if root == MESSAGES:
        c, t, ts = value.get("c"), value.get("t"), value.get("ts")
        if (type(c) is not str or len(c) > MAX_NAME or type(t) is not str or len(t) > MAX_TEXT
                or not _is_num(ts)):
            return "message lacks channel, text or time"
        if len(value) == 3:
            return None  # the common case: nothing more to check
        for k in ("r", "th"):
            if k in value and not _is_eid(value[k]):
                return f"message has a bad {k} reference"
        if "ttl" in value and (not _is_num(value["ttl"]) or value["ttl"] <= 0):
            return "message has a bad ttl"
        if "mn" in value and (not isinstance(value["mn"], list) or not all(_is_text(x, 64) for x in value["mn"])):
            return "message has bad mentions"
        if "f" in value and not isinstance(value["f"], dict):
            return "message has a bad forward"
        if "a" in value:
            return attachments_problem(value["a"])
        return None
    if root in (EDITS, DELETES, PINS, REACTIONS):
        if not _is_eid(value.get("m")):
            return "value does not name a target message"
        if root == EDITS and not _is_text(value.get("t")):
            return "edit has no text"
        if root == REACTIONS and not _is_text(value.get("e"), 32):
            return "reaction has no emoji"
        return None
    if root == CHANNELS:
        if not _is_text(value.get("id"), 64) or not value.get("id"):
            return "channel has no id"
        if "n" in value and not _is_text(value["n"], MAX_NAME):
            return "channel has a bad name"
        if "k" in value and value["k"] not in ("text", "voice"):
            return "channel kind must be text or voice"
        if "ttl" in value and value["ttl"] is not None and (not _is_num(value["ttl"]) or value["ttl"] < 0):
            return "channel has a bad ttl"
        return None
    if root == SETTINGS:
        if "n" in value and not _is_text(value["n"], MAX_NAME):
            return "room name is too long"
        if "pub" in value and not isinstance(value["pub"], bool):
            return "public flag must be a boolean"
        if "dm" in value and not isinstance(value["dm"], bool):
            return "direct flag must be a boolean"
        if "tags" in value and (not isinstance(value["tags"], list) or not all(_is_text(t, 32) for t in value["tags"])):
            return "tags must be short strings"
        if "icon" in value and (attachment_problem(value["icon"]) or "w" not in value["icon"]):
            return "room icon must be a picture's manifest"
        if "rl" in value and not _relay_list(value["rl"]):
            return f"relays must be a list of at most {MAX_RELAYS} distinct relay addresses"
        return None
    return f"unknown root {root!r}"


def required_role(root: str, value: dict[str, Any], writer_short: str) -> Role:
    """The role needed to insert `value` under `root` for a writer whose short id is `writer_short`."""
    if root in ADMIN_ROOTS:
        return Role.ADMIN
    if root in TARGETED:
        target = split_eid(value["m"])
        if target is not None and target[0] != writer_short:
            return Role.MODERATOR
    return Role.MEMBER
