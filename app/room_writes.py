"""A room's local write path: validate a write, rotate the key first if it is exposed, then store and announce it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from crdt.cipher import new_room_key, seal_to_member
from crdt.control import ControlOp, key_commitment
from crdt.entry import Entry
from crdt.errors import NotAMember, PermissionDenied, RoomError
from crdt.room import IngestResult

from .errors import HubbubError, as_sentence
from .room_reads import RoomReads


class RoomWrites(RoomReads):
    """How a `Room` (app/room.py) makes a local entry; the operations (app/room_messages.py, app/room_admin.py) build on it."""

    _batch: IngestResult | None
    _rekeying: bool

    def _store_and_announce(self, result: IngestResult) -> None:
        """Commit a local write and tell the room's listeners (`Room._store_and_announce`)."""
        raise NotImplementedError

    def _local(self, write: Callable[[], IngestResult]) -> IngestResult:
        """Run a local write through validation, then store and announce it like any other entry.

        If a member left or a void admission left the room key exposed, the key rotates first, so
        nothing we write is readable by someone who is no longer a member."""
        if not self._rekeying and self.log.rekey_reasons() and self.my_role() is not None:
            self._rekeying = True
            try:
                self.rekey()
            finally:
                self._rekeying = False
        try:
            result = write()
        except NotAMember as exc:
            raise HubbubError("You are not a member of this room, so you cannot write to it.") from exc
        except PermissionDenied as exc:
            raise HubbubError(f"You are not allowed to do that: {exc}.") from exc
        except RoomError as exc:
            raise HubbubError(as_sentence(str(exc))) from exc
        if self._batch is not None:
            for name in ("accepted", "kinds", "needs", "flags", "flipped", "new_keys", "inserts", "removed"):
                getattr(self._batch, name).extend(getattr(result, name))
            self._batch.rebuilt = self._batch.rebuilt or result.rebuilt
            return result
        self._store_and_announce(result)
        return result

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

    def _write(self, root: str, value: dict[str, Any], delete: Iterable[str] = ()) -> str:
        holder: list[str] = []

        def run() -> IngestResult:
            key, result = self.log.write_value(self.profile.identity, root, value, delete)
            holder.append(key)
            return result

        self._local(run)
        return holder[0]

    def _delete_items(self, eids: list[str]) -> None:
        self._local(lambda: self.log.write_deletes(self.profile.identity, eids))

    def _control(self, op: ControlOp) -> Entry:
        result = self._local(lambda: self.log.write_control(self.profile.identity, op))
        return result.accepted[0]

    def _rotation(self, exclude: bytes | None = None) -> dict[str, Any]:
        """A new room key, committed to and sealed to every current member but `exclude`."""
        new_key = new_room_key()
        keys = {k.hex(): seal_to_member(k, new_key).hex() for k in self.log.state().active_members() if k != exclude}
        return {"commit": key_commitment(new_key).hex(), "keys": keys}

    def rekey(self) -> None:
        """Rotate the room key to the current members (after someone left, or a lost invite race)."""
        reasons = self.log.rekey_reasons()
        self._control(ControlOp("rekey", {"rotate": self._rotation(), "for": [h.hex() for h in reasons[:64]]}))

    def rekey_reasons(self) -> list[bytes]:
        """Why the key should rotate now (see `RoomLog.rekey_reasons`); empty unless we are a member."""
        return self.log.rekey_reasons() if self.my_role() is not None else []
