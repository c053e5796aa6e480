"""The plain records a room's ingest passes around and hands back: its result, staged entries, waits."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .content import ContentCheck
from .entry import NO_HASH, Entry
from .errors import InvalidEntry
from .keyring import Context
from .pending import WaitKey
from .yjs_update import InsertedItem

log = logging.getLogger("crdt.room")

@dataclass(frozen=True, slots=True)
class Equivocation:
    """Proof that `author` signed two different entries with the same sequence number."""

    author: bytes
    seq: int
    first_hash: bytes
    second: Entry


@dataclass(slots=True)
class IngestResult:
    """What one `ingest` call did."""

    accepted: list[Entry] = field(default_factory=list)   # newly held (valid or void), in chain order
    kinds: list[int] = field(default_factory=list)        # per accepted entry: the stored kind
    needs: list[int] = field(default_factory=list)        # per accepted entry: the role it needs
    flags: list[int] = field(default_factory=list)        # per accepted entry: crdt.content flags
    void: list[tuple[Entry, str]] = field(default_factory=list)  # accepted entries without authority
    rejected: list[tuple[Entry, str]] = field(default_factory=list)
    duplicates: int = 0
    equivocations: list[Equivocation] = field(default_factory=list)
    control_changed: bool = False
    hollowed: int = 0
    repaired: list[Entry] = field(default_factory=list)   # held hollow, now with genuine content
    flipped: list[tuple[bytes, int, int]] = field(default_factory=list)  # (author, seq, new flags) of older entries
    rebuilt: bool = False                                 # the document was rebuilt from the valid entries
    rebuild_needed: bool = False                          # ...or must be, by the owner of the payloads
    new_keys: list[tuple[bytes, bytes]] = field(default_factory=list)  # (rotation, key) opened for us
    wanted: list[tuple[bytes, int]] = field(default_factory=list)      # (author, seq) worth asking peers for
    dropped: list[tuple[Entry, object]] = field(default_factory=list)  # over the pending caps, with origins
    inserts: list[InsertedItem] = field(default_factory=list)          # values the document gained
    removed: list[tuple[str, str, Any]] = field(default_factory=list)  # (root, key, value before) it lost


@dataclass(slots=True)
class Wait(Exception):
    key: WaitKey
    due_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class DepsInfo:
    ctx: Context
    gen: int
    bound: int
    deps_id: int
    admitted: frozenset[bytes]


@dataclass(slots=True)
class Staged:
    """An entry linked in this ingest, with what its checks found."""

    entry: Entry
    check: ContentCheck | None = None
    body: bytes = b""
    repair: bool = False


def reject(result: IngestResult, e: Entry, reason: str) -> None:
    log.info("rejected entry %s/%d: %s", e.author.hex()[:12], e.seq, reason)
    result.rejected.append((e, reason))


def is_genesis(entry: Entry) -> bool:
    return entry.seq == 0 and entry.room_id == NO_HASH and not entry.deps




def check_time(ts: float, bound: int, now: float, slack_ms: float) -> None:
    """An entry's time against the bound its `deps` set (InvalidEntry) and our clock (Wait when too far ahead)."""
    if ts < bound:
        raise InvalidEntry("entry is stamped earlier than the control entries it names")
    if ts > now + slack_ms:
        raise Wait(("time",), ts)
