"""The session: the open node, the selected room and channel, unread counts, and new-message events for notifications."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.drafts import Drafts
from app.errors import HubbubError
from app.models import Channel, Message, short_id
from app.node import Node
from app.notify_prefs import NOTHING, NotifyPrefs
from app.room import Room

from ..services import LiveService, OfflineService
from .notify import Attention, notification_text, should_notify, tray_count
from .routes import RouteMark, peer_route
from .switcher import Target

log = logging.getLogger(__name__)

UNREAD_WINDOW = 100  # unread counts look at most this many newest messages per channel ("99+")
LAST_ROOM = "ui_last_room"
LAST_CHANNELS = "ui_last_channels"


@dataclass(frozen=True, slots=True)
class RoomSummary:
    """A room as the left rail shows it."""

    room_id: bytes
    name: str
    unread: int
    mentions: int
    direct: bool
    peer: str = ""  # in a direct room, the other person's short id (their avatar colour)
    attention: int = 0  # what the tray counts: by each channel's notification level (muted: nothing)
    route: RouteMark | None = None  # in a direct room, how our session with the other person runs (None: no session)


class Session(QObject):
    """The state the whole window shares; widgets read it and call its methods, never the other way round."""

    rooms_changed = Signal()
    room_selected = Signal(object)  # Room | None
    channel_selected = Signal(str)
    room_updated = Signal(bytes)  # new entries were stored in this room (coalesced per event-loop turn)
    unread_changed = Signal()
    notification = Signal(str, str)  # title, body
    live_changed = Signal(str)  # "presence", "typing" or "rooms"

    def __init__(self, node: Node, live: LiveService | None = None) -> None:
        super().__init__()
        self.node = node
        self.me = short_id(node.profile.public_key)
        self.live: LiveService = live if live is not None else OfflineService(self.me, node)
        self.live.subscribe(self.live_changed.emit)
        self.live.subscribe_entries(self._on_live_entries)
        self.room: Room | None = None
        self.channel: str | None = None
        self.focused = True
        self.drafts = Drafts(node.profile.path)
        self.prefs = NotifyPrefs(node.profile.settings)
        self.attention = Attention(self.prefs, self.me)
        self.jump_target: str | None = None  # a message to show once its channel opens (search, links)
        self._attached: dict[bytes, Room] = {}
        self._pending: set[bytes] = set()
        self._seen: dict[tuple[bytes, str], float] = {}
        self._unread: dict[bytes, dict[str, tuple[int, int]]] = {}
        self._titles: dict[bytes, tuple[str, bool]] = {}  # what the rail last showed: (title, direct)
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self._deliver)

    # ----- rooms ------------------------------------------------------------------------------

    def attach(self, room: Room) -> None:
        """Start following a room: listen for its entries and count what is unread."""
        if room.id in self._attached:
            return
        self._attached[room.id] = room
        self._titles[room.id] = (self.title(room), room.is_direct())
        room.listeners.append(self._on_entries)
        for ch in self.text_channels(room):
            newest = room.view.page(ch.id, 1)
            self._seen[(room.id, ch.id)] = newest[-1].ts if newest else 0.0
        self._recount(room)

    def attach_all_later(self) -> None:
        """Open the other rooms one per event-loop turn, so unread badges fill in without delaying the first paint."""
        waiting = [rid for rid, _ in self.node.room_list() if rid not in self._attached]

        def next_room() -> None:
            if not waiting:
                return
            try:
                self.open_room(waiting.pop(0))
            except HubbubError:
                pass
            self.unread_changed.emit()
            QTimer.singleShot(0, next_room)

        QTimer.singleShot(0, next_room)

    def open_room(self, room_id: bytes) -> Room:
        room = self.node.room(room_id)
        self.attach(room)
        return room

    def summaries(self) -> list[RoomSummary]:
        out = []
        hidden = self._spare_direct_rooms()
        sessions = self.live.sessions()
        for rid, name in self.node.room_list():
            if rid in hidden:
                continue
            room = self._attached.get(rid)
            direct = room is not None and room.is_direct()
            peer = room.direct_peer() if room is not None else None
            counts = [(u, m, self.attention.level(room, ch)) for ch, (u, m) in self._unread.get(rid, {}).items()] if room else []
            shown = [(u, m, level) for u, m, level in counts if level != NOTHING]  # a muted channel shows no badge
            out.append(RoomSummary(rid, self.title(room) if room else name, sum(u for u, _, _ in shown),
                                   sum(m for _, m, _ in shown), direct, short_id(peer) if peer else "",
                                   sum(tray_count(level, u, m) for u, m, level in shown),
                                   peer_route(sessions, peer) if direct else None))
        return out

    def _spare_direct_rooms(self) -> set[bytes]:
        """Empty direct rooms with someone we have another, in-use direct room with.

        Two people who open a conversation with each other at the same moment get two rooms;
        both sides then use the one with the smaller id (`NodeService.direct_room_with`), so the
        other is left out of the list unless something was written in it.
        """
        by_peer: dict[bytes, list[Room]] = {}
        for room in self._attached.values():
            peer = room.direct_peer()
            if peer is not None:
                by_peer.setdefault(peer, []).append(room)
        spare: set[bytes] = set()
        for rooms in by_peer.values():
            rooms.sort(key=lambda room: room.id)
            spare.update(room.id for room in rooms[1:] if not room.history())
        return spare

    @staticmethod
    def title(room: Room) -> str:
        """What the rail and headers call a room: a direct room is named after the other person."""
        peer = room.direct_peer()
        if peer is None:
            return room.name
        return room.name_of(short_id(peer))

    async def open_dm(self, peer: bytes) -> Room:
        """Open (creating if needed) my direct room with `peer` and select it; HubbubError says why not."""
        room_id = await self.live.open_dm(peer)
        room = self.open_room(room_id)
        self.rooms_changed.emit()
        self.select_room(room_id)
        return room

    def create_room(self, name: str) -> Room:
        room = self.live.create_room(name)
        self.attach(room)
        self.rooms_changed.emit()
        self.select_room(room.id)
        return room

    def select_room(self, room_id: bytes | None) -> None:
        if room_id is None:
            self.room, self.channel = None, None
            self.room_selected.emit(None)
            return
        room = self.open_room(room_id)
        self.room = room
        self.node.profile.settings[LAST_ROOM] = room_id.hex()
        self.room_selected.emit(room)
        last = self.node.profile.settings.get(LAST_CHANNELS, {}).get(room_id.hex())
        chans = self.text_channels(room)
        ids = [c.id for c in chans]
        self.select_channel(last if last in ids else (ids[0] if ids else None))

    def select_channel(self, channel: str | None) -> None:
        self.channel = channel
        if self.room is not None and channel is not None:
            self.node.profile.settings.setdefault(LAST_CHANNELS, {})[self.room.id.hex()] = channel
        self.channel_selected.emit(channel or "")

    def step_channel(self, delta: int) -> None:
        """Move to the previous (-1) or next (+1) text channel of the room, wrapping around."""
        if self.room is None:
            return
        ids = [c.id for c in self.text_channels(self.room)]
        if not ids:
            return
        pos = ids.index(self.channel) if self.channel in ids else 0
        self.select_channel(ids[(pos + delta) % len(ids)])

    def last_room(self) -> bytes | None:
        wanted = self.node.profile.settings.get(LAST_ROOM)
        rooms = [rid for rid, _ in self.node.room_list()]
        for rid in rooms:
            if rid.hex() == wanted:
                return rid
        return rooms[0] if rooms else None

    @staticmethod
    def text_channels(room: Room) -> list[Channel]:
        return [c for c in room.channels() if c.kind == "text"]

    def targets(self) -> list[Target]:
        """Everything the quick switcher can jump to: rooms, channels, and people to message (without a DM yet)."""
        out: list[Target] = []
        people: dict[bytes, str] = {}
        direct = {p for p in (r.direct_peer() for r in self._attached.values()) if p is not None}
        for s in self.summaries():
            out.append(Target(s.name, s.room_id, None, s.unread))
            room = self._attached.get(s.room_id)
            if room is not None:
                unread = self._unread.get(s.room_id, {})
                for c in self.text_channels(room):
                    out.append(Target(f"#{c.name}  ·  {s.name}", s.room_id, c.id, unread.get(c.id, (0, 0))[0]))
                for m in room.members():
                    if m.key != self.node.profile.public_key and m.key not in direct:
                        people.setdefault(m.key, m.name)
        out.extend(Target(f"@{name}  ·  message", b"", person=key) for key, name in people.items())
        return out

    def jump(self, target: Target) -> None:
        if self.room is None or self.room.id != target.room_id:
            self.select_room(target.room_id)
        if target.channel:
            self.select_channel(target.channel)

    # ----- unread ------------------------------------------------------------------------------

    def unread(self, room_id: bytes, channel: str) -> tuple[int, int]:
        """(unread messages, unread mentions of me) in a channel, counted over its newest messages."""
        return self._unread.get(room_id, {}).get(channel, (0, 0))

    def read_mark(self, room_id: bytes, channel: str) -> float:
        return self.node.profile.store.read_marks(room_id).get(channel, 0.0)

    def mark_all_read(self) -> None:
        """Mark every channel of every room read up to its newest message (or now, whichever is later)."""
        now = time.time() * 1000.0
        for room in self._attached.values():
            for ch in self.text_channels(room):
                newest = room.view.page(ch.id, 1)
                self.node.profile.store.set_read_mark(room.id, ch.id, max(newest[-1].ts if newest else 0.0, now))
            self._unread[room.id] = {ch: (0, 0) for ch in self._unread.get(room.id, {})}
        self.unread_changed.emit()

    def step_unread(self, delta: int) -> None:
        """Open the next (+1) or previous (-1) channel with unread messages, across rooms in the rail's order."""
        stops = [(s.room_id, ch.id) for s in self.summaries() if (room := self._attached.get(s.room_id)) is not None
                 for ch in self.text_channels(room)]
        if not stops:
            return
        here = (self.room.id, self.channel) if self.room is not None and self.channel else None
        start = stops.index(here) if here in stops else (-1 if delta > 0 else 0)
        for k in range(1, len(stops) + 1):
            rid, ch = stops[(start + delta * k) % len(stops)]
            if (rid, ch) != here and self.unread(rid, ch)[0] and self.attention.level(self._attached[rid], ch) != NOTHING:
                if self.room is None or self.room.id != rid:
                    self.select_room(rid)
                self.select_channel(ch)
                return

    def notify_changed(self) -> None:
        """The notification settings changed: save them, count again, and show it."""
        self.node.profile.save_settings()
        for room in self._attached.values():
            self._recount(room)
        self.unread_changed.emit()

    def open_message(self, room_id: bytes, message_id: str) -> Message | None:
        """Open the room and channel of a message, asking for it to be shown in its context (None: it is not there)."""
        room = self.open_room(room_id)
        try:
            msg = room.message(message_id)
        except HubbubError:
            return None
        self.jump_target = msg.id
        if self.room is None or self.room.id != room_id:
            self.node.profile.settings.setdefault(LAST_CHANNELS, {})[room_id.hex()] = msg.channel  # opens there
            self.select_room(room_id)
        if self.jump_target is not None:  # not taken by the room's first channel: open the message's own
            self.select_channel(msg.channel)
        return msg

    def take_jump(self, channel: str) -> str | None:
        """The message asked for by `open_message`, when `channel` (the one opening) is its channel; taken once."""
        target = self.jump_target
        if target is None or self.room is None:
            return None
        msg = self.room.view.message(target)
        if msg is not None and msg.channel != channel:
            return None
        self.jump_target = None
        return target if msg is not None else None

    def mark_read(self) -> None:
        """Mark the selected channel as read up to its newest message."""
        if self.room is None or not self.channel:
            return
        newest = self.room.view.page(self.channel, 1)
        upto = max(newest[-1].ts if newest else 0.0, time.time() * 1000.0)
        if self.unread(self.room.id, self.channel) == (0, 0) and self.read_mark(self.room.id, self.channel) >= (newest[-1].ts if newest else 0):
            return
        had_unread = self.unread(self.room.id, self.channel) != (0, 0)
        self.node.profile.store.set_read_mark(self.room.id, self.channel, upto)
        self._unread.setdefault(self.room.id, {})[self.channel] = (0, 0)
        if had_unread:
            self.unread_changed.emit()

    def _recount(self, room: Room) -> None:
        marks = self.node.profile.store.read_marks(room.id)
        counts: dict[str, tuple[int, int]] = {}
        moderators = self.attention.moderators(room)
        for ch in self.text_channels(room):
            mark = marks.get(ch.id, 0.0)
            unread = mentions = 0
            for msg in room.view.page(ch.id, UNREAD_WINDOW):
                if msg.ts > mark and msg.author != self.me and not msg.deleted:
                    unread += 1
                    mentions += self.attention.mentions_me(msg, moderators)
            counts[ch.id] = (unread, mentions)
        self._unread[room.id] = counts

    # ----- incoming entries ----------------------------------------------------------------------

    def _on_live_entries(self, room: Room, entries: list[Any]) -> None:
        """Entries the network service stored: a room joined meanwhile is followed from now on."""
        if room.id not in self._attached:
            self.attach(room)
            self.rooms_changed.emit()
        self._on_entries(room, entries)

    def _on_entries(self, room: Room, entries: list[Any]) -> None:
        self._pending.add(room.id)
        if not self._flush.isActive():
            self._flush.start()

    def _deliver(self) -> None:
        pending, self._pending = self._pending, set()
        before = {rid: dict(counts) for rid, counts in self._unread.items()}
        renamed = False
        for rid in pending:
            room = self._attached.get(rid)
            if room is None:
                continue
            title = (self.title(room), room.is_direct())
            renamed = renamed or self._titles.get(rid) != title  # e.g. a pushed DM filled in by its first sync
            self._titles[rid] = title
            self._announce_new(room)
            self._recount(room)
            self.room_updated.emit(rid)
        if renamed:
            self.rooms_changed.emit()
        if self._unread != before:
            self.unread_changed.emit()

    def _announce_new(self, room: Room) -> None:
        direct = room.is_direct()
        moderators = self.attention.moderators(room)
        for ch in self.text_channels(room):
            key = (room.id, ch.id)
            seen = self._seen.get(key, 0.0)
            fresh = [m for m in room.view.page(ch.id, 20) if m.ts > seen]
            if not fresh:
                continue
            self._seen[key] = fresh[-1].ts
            level = self.attention.level(room, ch.id)
            for msg in fresh:
                if should_notify(msg, self.me, focused=self.focused, direct=direct, level=level, dnd=self.prefs.dnd,
                                 mentioned=self.attention.mentions_me(msg, moderators)):
                    title, body = notification_text(room.name_of(msg.author), room.name, ch.name, msg.text, direct=direct)
                    self.notification.emit(title, body)

    def message(self, message_id: str) -> Message | None:
        if self.room is None:
            return None
        try:
            return self.room.message(message_id)
        except HubbubError:
            return None

    def save(self) -> None:
        self.node.profile.save_settings()
        self.save_drafts()

    def save_drafts(self) -> None:
        try:
            self.drafts.save()
        except OSError as exc:  # a full disk: the drafts stay in memory, and saving is tried again later
            log.warning("drafts could not be saved: %s", exc)
