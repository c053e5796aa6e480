"""The node's periodic chores: expiry and snapshots, pending entries that never became checkable, key rotations
that are due, idleness, typing that lapsed, and changes in the LAN's public rooms."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

from p2p.node import PeerNode

from .errors import HubbubError
from .node import Node
from .presence import PresenceBook
from .public_rooms import PublicRooms
from .room import now_ms

log = logging.getLogger(__name__)

CHORES_EVERY = 5.0  # seconds between rounds of the heavier chores
WATCH_EVERY = 1.0   # seconds between looks at idleness and the LAN's public rooms


class Housekeeping:
    """Two loops: a light one every second, a heavier one every few seconds."""

    def __init__(self, node: Node, peer: PeerNode, presence: PresenceBook, public: PublicRooms,
                 refresh_secrets: Callable[[], None]) -> None:
        self.node = node
        self.peer = peer
        self.presence = presence
        self.public = public
        self._refresh = refresh_secrets
        self._gc_frozen = False

    async def async_watch(self) -> None:
        """Light, frequent looks: idleness, and whether the LAN's public rooms changed."""
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                self.presence.check_idle(time.monotonic())
                self.public.check_changed()
            except Exception:
                log.exception("watch failed")

    async def async_chores(self) -> None:
        while True:
            await asyncio.sleep(CHORES_EVERY)
            self.chores()

    def chores(self) -> None:
        saved = False
        rotated = False
        for room in self.node.open_rooms():
            with contextlib.suppress(Exception):
                room.purge_expired()
            with contextlib.suppress(Exception):
                saved = room.snapshot_if_due() or saved
            for _entry, origin in room.log.expire_pending(now_ms()):
                if isinstance(origin, bytes):  # an entry that never became checkable counts against its sender
                    self.peer.report_invalid(origin, "sent entries that never became checkable")
            reasons = room.rekey_reasons()
            if reasons:
                with contextlib.suppress(HubbubError):
                    room.rekey()
                    rotated = True
                    log.info("rotated the key of %s after %d membership change(s) that left it exposed",
                             room.name, len(reasons))
        with contextlib.suppress(Exception):
            self.node.tidy_search()
        if rotated:
            self._refresh()
        if saved or not self._gc_frozen:
            # A node holds a large, long-lived, acyclic object graph (indexes, chains); moving it out of the
            # cyclic collector's view keeps full collections from pausing message delivery.
            gc.freeze()
            self._gc_frozen = True
        self.presence.expire_typing(time.monotonic())
