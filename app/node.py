"""The node: one profile's rooms, opened on demand, with the operations that span rooms (create, find, import, export)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crdt.errors import DecodeError, StoreError

from .errors import BadFile, HubbubError, RoomNotFound
from .formats import FORMATS
from .invite import NEVER, Invite
from .profile import Profile

if TYPE_CHECKING:  # imported where used: `room list` and other quick commands need no pycrdt
    from .export import ExportedRoom
    from .search import Hit, ProfileSearch

    from .room import Room

log = logging.getLogger(__name__)

MAX_IMPORT = 2 * 1024**3


@dataclass(slots=True)
class ImportReport:
    """What `import` did: how many entries were new, already known, or refused, and why."""

    room_id: bytes
    name: str
    added: int = 0
    known: int = 0
    problems: list[str] = field(default_factory=list)
    skipped: int = 0


class Node:
    """The rooms of one profile."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._rooms: dict[bytes, Room] = {}
        self._search: ProfileSearch | None = None
        self._search_problem: HubbubError | None = None

    def close(self) -> None:
        for room in self._rooms.values():
            try:
                room.purge_expired()
                if room._since_snapshot:
                    room.snapshot()
            except StoreError:
                log.warning("could not save a snapshot of %s", room.name)
        if self._search is not None:
            self._search.close()
        self.profile.close()

    # ----- search --------------------------------------------------------------------------

    def searcher(self) -> ProfileSearch:
        """The profile's search index (opened with the first room); raises HubbubError if it cannot be used."""
        if self._search is None:
            if self._search_problem is not None:
                raise self._search_problem
            from .search import ProfileSearch

            try:
                self._search = ProfileSearch(self.profile.path)
            except HubbubError as exc:
                self._search_problem = exc
                raise
            for room in self._rooms.values():
                self._search.follow(room)
        return self._search

    def _follow(self, room: Room) -> None:
        try:
            self.searcher().follow(room)
        except HubbubError as exc:  # the rooms work without search; searching says why (on stderr only then)
            log.info("%s", exc)

    def tidy_search(self) -> None:
        """Index what the rooms' recent changes left waiting (the node's housekeeping round calls this)."""
        if self._search is not None:
            self._search.feed.flush()

    def search(self, text: str, room: Room | None = None, limit: int = 50) -> list[Hit]:
        """Messages matching `text` in one room or in all, newest first (HubbubError: a sentence)."""
        rooms = [room] if room is not None else self.open_rooms()
        return self.searcher().search(rooms, text, limit)

    # ----- rooms ----------------------------------------------------------------------

    def room_list(self) -> list[tuple[bytes, str]]:
        return self.profile.store.rooms()

    def has_room(self, room_id: bytes) -> bool:
        """Whether this profile holds the room (cheap: asked for every frame a peer sends)."""
        return self.profile.store.has_room(room_id)

    def room(self, room_id: bytes) -> Room:
        room = self._rooms.get(room_id)
        if room is None:
            from .room import Room

            room = self._rooms[room_id] = Room.open(self.profile, room_id)
            self._follow(room)
            if not self.profile.store.full_disk:
                try:  # what expired while no node ran is erased before anyone reads the room
                    room.purge_expired()
                except StoreError:
                    log.warning("could not erase the expired messages of %s", room.name)
        return room

    def open_rooms(self) -> list[Room]:
        return [self.room(rid) for rid, _ in self.room_list()]

    def find_room(self, text: str) -> Room:
        """A room named by its id (or a unique prefix of at least 4 hex digits) or its exact name."""
        text = text.strip()
        rooms = self.room_list()
        matches = [rid for rid, name in rooms if rid.hex() == text.lower()]
        if not matches and len(text) >= 4:
            matches = [rid for rid, _ in rooms if rid.hex().startswith(text.lower())]
        if not matches:
            matches = [rid for rid, name in rooms if name == text]
        if not matches:
            matches = [rid for rid, name in rooms if name.lower() == text.lower()]
        if not matches:
            matches = [rid for rid, name in rooms if name.lower().startswith(text.lower())]
        if not matches:
            raise RoomNotFound(f"There is no room called {text!r} in this profile; `hubbub room list` shows the rooms.")
        if len(matches) > 1:
            raise RoomNotFound(f"{text!r} matches {len(matches)} rooms; use more of the room id.")
        return self.room(matches[0])

    def forget_room(self, room_id: bytes) -> None:
        """Remove a room this profile holds, with everything stored for it (a join that never finished)."""
        self._rooms.pop(room_id, None)
        self.profile.store.forget_room(room_id)
        if self._search is not None:
            self._search.index.drop_room(room_id)

    def create_room(self, name: str) -> Room:
        from .room import Room

        room = Room.create(self.profile, name)
        self._rooms[room.id] = room
        self._follow(room)
        return room

    # ----- invites -------------------------------------------------------------------------

    def invite(self, room: Room, valid_seconds: float | None = 7 * 24 * 3600, uses: int = 1) -> Invite:
        """An invite link admitting `uses` people, valid for `valid_seconds` (None: no expiry); it carries the
        relays the room (and this profile) is met on, so a joiner without a relay of its own reaches us."""
        from .relay.settings import relays_for

        invite_id, secret, expires = room.create_invite(valid_seconds, uses)
        return Invite(room.id, invite_id, secret, NEVER if expires is None else expires, room.name,
                      self.profile.public_key, tuple(relays_for(room, self.profile)))

    # ----- export and import -------------------------------------------------------------------

    def exported(self, room: Room) -> ExportedRoom:
        from .export import ExportedRoom

        channels = room.channels()
        messages = {c.id: room.history(c.id) for c in channels if c.kind == "text"}
        return ExportedRoom(room.name, room.id.hex(), channels, messages, room.name_of)

    def export(self, room: Room, fmt: str, out: Path) -> int:
        """Write the room's history to `out`; returns the number of bytes written."""
        if fmt not in FORMATS:
            raise HubbubError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
        from .export import to_html, to_json, to_markdown
        from crdt.logfile import write_log
        from crdt.private_file import write_durably

        try:
            if fmt == "log":
                return write_log(out, room.id, room.name, room.log.keys.as_dict(), self.profile.store.all_entries(room.id))
            data = self.exported(room)
            raw = {"json": to_json, "md": to_markdown, "html": to_html}[fmt](data).encode("utf-8")
            write_durably(out, raw)
            return len(raw)
        except OSError as exc:
            raise HubbubError(f"Cannot write {out}: {exc.strerror}.") from exc

    def import_log(self, path: Path) -> ImportReport:
        """Merge a signed log file into this profile, verifying every entry."""
        from crdt.logfile import genesis_of, read_log
        from crdt.room import RoomLog

        try:
            size = path.stat().st_size
            if size > MAX_IMPORT:
                raise BadFile(f"{path} is too large to be a Hubbub log.")
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BadFile(f"There is no file {path}.") from exc
        except OSError as exc:
            raise BadFile(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            parsed = read_log(data)
        except DecodeError as exc:
            raise BadFile(f"{path} is not a readable Hubbub log ({exc}).") from exc
        report = ImportReport(parsed.room_id, parsed.name)
        if parsed.bad_frames:
            report.problems.append(f"{parsed.bad_frames} damaged block(s) of the file could not be read")
        known = {rid for rid, _ in self.room_list()}
        if parsed.room_id not in known:
            genesis = genesis_of(parsed)
            key0 = parsed.keys.get(parsed.room_id)
            if genesis is None or key0 is None:
                raise BadFile(f"{path} does not hold the first entry of its room and its key, so the room cannot be verified.")
            probe = RoomLog(parsed.room_id, {parsed.room_id: key0})
            outcome = probe.ingest([genesis])
            if not outcome.accepted or outcome.void:
                raise BadFile(f"{path} holds a room whose first entry does not verify.")
            self.profile.store.add_room(parsed.room_id, parsed.name or "imported room", {parsed.room_id: key0})
        room = self.room(parsed.room_id)
        before = self.profile.store.count(room.id)
        result = room.ingest(parsed.entries)
        room.offer_keys(parsed.keys)
        report.added = self.profile.store.count(room.id) - before
        report.known = result.duplicates
        for entry, reason in result.rejected:
            report.problems.append(f"entry {entry.seq} by {entry.author.hex()[:12]}: {reason}")
        report.skipped = len(room.log.pending)
        if report.skipped:
            report.problems.append(f"{report.skipped} entries were skipped because an earlier entry they depend on, "
                                   "or the key they need, is missing")
        room.snapshot()
        return report
