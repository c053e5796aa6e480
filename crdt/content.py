"""The checks of a content entry (a Yjs update) that do not depend on authority, and the role it needs.

A content entry inserts at most one value, under the key and Yjs client id derived
from its own (author, seq), into one of the room's root maps, and may delete items
that earlier entries inserted. Whether that is *allowed* depends on the author's role
(`crdt/authority.py`); what role it *needs* is fixed by the update itself, which is
what `check_content` works out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .entry import Entry
from .errors import InvalidEntry
from .schema import ADMIN_ROOTS, ROOT_INDEX, Role, b36, client_id, required_role, value_problem
from .yjs_update import UpdateSummary, summarize_update

KIND_DELETE_ONLY = 7  # an update that only deletes (the other content kinds are the index of their root)

# Flags kept per entry (in memory and in the store's `flags` column).
VALID = 1        # authorised in the resolved state: its content is part of the view
DELETES = 2      # its update deletes items
APPLIED = 4      # its update has been applied to the current document
RETRACTED = 8    # it was applied and later voided: its item was deleted from the document
CONTROL = 16     # a control operation
HOLLOW = 32      # held without its payload
INSERTS = 64     # its update inserts a value

ROOT_NAMES = {"m": "messages", "e": "edits", "x": "deletions", "r": "reactions", "p": "pins",
              "c": "channels", "s": "room settings"}


_MEMBER = Role.MEMBER  # an enum member looked up on its class costs more than the rest of a field check


class UnknownItem(Exception):
    """The update deletes an item whose author is not known yet (the entry must wait for it)."""

    def __init__(self, client: int) -> None:
        super().__init__(client)
        self.client = client


@dataclass(slots=True)
class ContentCheck:
    """What a structurally valid content entry does and needs."""

    summary: UpdateSummary
    need: Role
    flags: int
    kind: int        # what the store records: the root's index, or KIND_DELETE_ONLY
    ts: float | None  # the time its value claims, if it has one


def check_content(e: Entry, body: bytes, writer: str,
                  owner_of: Callable[[int], tuple[bytes, str, str] | None]) -> ContentCheck:
    """Check a decrypted Yjs update by `e`'s author (short id `writer`); raises InvalidEntry or UnknownItem.

    On the path of every entry a sync brings in, so written flat.
    """
    summary = summarize_update(body)
    need = _MEMBER
    flags = 0
    kind = KIND_DELETE_ONLY
    ts: float | None = None
    inserts = summary.inserts
    if inserts:
        if len(inserts) > 1:
            raise InvalidEntry("an entry may insert one value")
        item = inserts[0]
        if item.client != client_id(writer, e.seq) or item.clock != 0:
            raise InvalidEntry("update uses a Yjs client id the author does not own")
        if item.key != writer + b36(e.seq):
            raise InvalidEntry("update writes under a key that is not its own")
        root = item.root
        kind = ROOT_INDEX.get(root, -1)
        if kind < 0:
            raise InvalidEntry(f"update writes to unknown root {root!r}")
        value = item.value
        problem = value_problem(root, value)
        if problem:
            raise InvalidEntry(problem)
        if root != "m":
            need = required_role(root, value, writer)
        flags = INSERTS
        claimed = value.get("ts")
        if claimed is not None and type(claimed) in (int, float):
            ts = float(claimed)
    deletes = summary.deletes
    if deletes:
        flags |= DELETES
        for client, _clock, _length in deletes:
            owner = owner_of(client)
            if owner is None:
                raise UnknownItem(client)
            if owner[0] != e.author:
                other = Role.ADMIN if owner[1] in ADMIN_ROOTS else Role.MODERATOR
                if other > need:
                    need = other
    elif not inserts:
        raise InvalidEntry("update changes nothing")
    return ContentCheck(summary, need, flags, kind, ts)


def refusal(need: Role, summary: UpdateSummary) -> str:
    """The sentence for a content entry whose author lacked the role it needed."""
    for item in summary.inserts:
        if need > Role.MEMBER and item.root in ROOT_NAMES:
            return f"{ROOT_NAMES[item.root]} needs the {need.name.lower()} role"
    if summary.deletes and need > Role.MEMBER:
        return f"removing another member's items needs the {need.name.lower()} role"
    return "author is not a member"
