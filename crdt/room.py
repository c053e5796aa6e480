"""The sans-IO core of one room: it checks entries, keeps the chains and the control graph, and updates the view.

`RoomLog` never touches a disk or a socket. Entries go in through `ingest` (with the
time passed in), which sorts them into *held* (linked into their author's chain and
kept, whether or not their author had the authority for them: a *void* entry changes
nothing but is kept, because what is valid is a function of the whole set of entries
and may change as more arrive), *pending* (waiting for something they need) and
*rejected* (broken: bad signature, chain, encryption, encoding or shape, never kept).

After linking, the control operations are resolved (`crdt/resolve.py`), the authority
of every content entry is judged against the result (`crdt/authority.py`), and the
pycrdt document is brought in line: new valid entries applied in one transaction,
entries that became void retracted, and, when a retraction cannot be expressed as a
deletion, the document rebuilt from the valid entries (`crdt/docsync.py`).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable
from typing import Any

from nacl.signing import SigningKey

from . import docsync, writes
from .cipher import new_nonce, seal_payload
from .control import ControlOp
from .entry import NO_HASH, Entry, sign_entry
from .gcpause import CollectorPaused
from .judging import Judging
from .linking import FUTURE_SLACK_MS, KIND_CONTROL, KIND_CONTROL_ROW, KIND_REDACTED, KIND_YJS, VOID_CAP, Linking
from .pending import WaitKey
from .roomtypes import Equivocation, IngestResult, Staged, is_genesis

KIND_DELETE_ONLY = 7

__all__ = ["RoomLog", "IngestResult", "Equivocation", "Staged", "genesis_entry", "is_genesis", "KIND_YJS", "KIND_CONTROL",
           "KIND_DELETE_ONLY", "KIND_CONTROL_ROW", "KIND_REDACTED", "FUTURE_SLACK_MS", "VOID_CAP"]


class RoomLog(Linking, Judging):
    """One room's log index, control graph, resolution and view, without I/O."""

    # ----- ingest ---------------------------------------------------------------------

    def ingest(self, entries: Iterable[Entry], origin: object = None, now_ms: float | None = None) -> IngestResult:
        """Check and hold entries from anywhere (`origin`: who sent them); never raises for bad input.
        Python's cycle collector is paused meanwhile (`crdt/gcpause.py`)."""
        with CollectorPaused():
            return self._ingest(entries, origin, now_ms)

    def _ingest(self, entries: Iterable[Entry], origin: object, now_ms: float | None) -> IngestResult:
        now = time.time() * 1000.0 if now_ms is None else now_ms
        result = IngestResult()
        work: dict[bytes, dict[int, tuple[Entry, object]]] = {}
        for e in entries:
            self._sort_in(e, origin, work, result)
        while self._future and self._future[0][0] <= now:
            _due, author, seq = heapq.heappop(self._future)
            taken = self.pending.take((author, seq))
            if taken is not None:
                work.setdefault(author, {})[seq] = taken
        staged: list[Staged] = []
        graph_before = len(self.graph)
        self._link_all(work, staged, result, now)
        flips: list[tuple[bytes, int, bool]] = []
        if len(self.graph) != graph_before or result.equivocations or any(s.repair and s.check is None for s in staged):
            fresh = {n.hash for n in self.graph.by_idx[graph_before:]}
            self._resolve_again(result, flips, {(s.entry.author, s.entry.seq) for s in staged}, fresh)
        self._authorize(staged, result)
        docsync.apply(self, staged, flips, result)
        return result

    def retry_pending(self, wait: WaitKey, now_ms: float | None = None) -> IngestResult:
        """Ingest again the entries that wait on `wait` (e.g. a key that arrived outside the log)."""
        return self.ingest([e for e, _o in self.pending.wake(wait)], None, now_ms)

    def rekey_reasons(self) -> list[bytes]:
        """Control entries after which the room key must rotate but has not: an add that turned out void (a
        lost race for an invite, an adder who lost its authority: the joiner may hold the keys) and a member
        who left without rotating. Answered by a `rekey` naming them (or any later rotation)."""
        res, graph = self.resolution, self.graph
        covered = 0
        answered: set[bytes] = set()
        for r in graph.rotations:
            if r.hash in res.effective:
                covered |= r.anc
                answered.update(bytes.fromhex(h) for h in r.op.args.get("for", []) if isinstance(h, str))
        out = []
        for node in graph.by_idx:
            if covered >> node.idx & 1 or node.hash in answered or node.op.target is None:
                continue
            if node.op.op == "add" and node.hash not in res.effective and node.op.target not in res.state.members:
                out.append(node.hash)
            elif node.op.op == "remove" and node.hash in res.effective and node.op.rotation is None:
                out.append(node.hash)
        return out

    # ----- writing --------------------------------------------------------------------

    def write_control(self, identity: SigningKey, op: ControlOp) -> IngestResult:
        """Sign, check and hold a control operation by the local member."""
        return writes.write_control(self, self.ingest, identity, op)

    def write_value(self, identity: SigningKey, root: str, value: dict[str, Any], delete: Iterable[str] = ()) -> tuple[str, IngestResult]:
        """Insert `value` under `root` (and delete the items written by the eids in `delete`)."""
        self.identity = self.identity or identity
        return writes.write_value(self, self.ingest, identity, root, value, delete)

    def write_deletes(self, identity: SigningKey, targets: Iterable[str]) -> IngestResult:
        """Remove the items written by the given eids (e.g. take back a reaction)."""
        self.identity = self.identity or identity
        return writes.write_deletes(self, self.ingest, identity, targets)


def genesis_entry(identity: SigningKey, room_key: bytes, name: str, member_name: str = "", ts_ms: float | None = None) -> Entry:
    """The signed first entry of a new room; the room id is its hash."""
    ts = int(time.time() * 1000 if ts_ms is None else ts_ms)
    op = ControlOp("genesis", {"name": name, "member_name": member_name, "nonce": new_nonce().hex(), "ts": ts})
    nonce = new_nonce()
    author = bytes(identity.verify_key)
    ct = seal_payload(room_key, nonce, bytes((KIND_CONTROL,)) + op.encode(), NO_HASH, author, 0, 0)
    return sign_entry(identity, room_id=NO_HASH, seq=0, prev=NO_HASH, epoch=0, deps=(), nonce=nonce, ciphertext=ct)
