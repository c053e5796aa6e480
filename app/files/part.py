"""`Files`, the node's part for files and pictures: attaching them to messages, fetching them from any member who
holds them, serving ours, and removing their chunks when their message is deleted or expires.

Wired by NodeService: it hears the `files` channel and sessions ending (`on_event`), every room's purges
(`hook`), and runs with the node (`async_start`, `async_stop`). Streams come from `p2p.streams.PeerStreams`
("a byte stream to this peer": direct TCP on a LAN, the data channel otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from p2p.byte_stream import ByteStream
from p2p.events import PeerBanned, PeerDisconnected, PeerEvent, Received
from p2p.streams import PeerStreams

from ..errors import HubbubError
from ..room import now_ms
from .assemble import DiskFull, assemble
from .catalog import find_attachment, room_manifests
from .manifest import Manifest
from .sending import store_files
from .store import FileStore, cache_limit
from .transfer import Fetch, FetchFailed, Progress, async_serve

if TYPE_CHECKING:
    from crdt.room import IngestResult
    from p2p.node import PeerNode

    from ..node import Node
    from ..room import Room

log = logging.getLogger(__name__)

EVICT_EVERY = 30.0


class Files:
    """Files of every room of one node."""

    def __init__(self, node: Node, peer: PeerNode, may_receive: Callable[[bytes, Room], bool]) -> None:
        self.node = node
        self.peer = peer
        self.may_receive = may_receive
        self.store = FileStore(node.profile.path)
        self.streams = PeerStreams(peer, self._on_stream)
        self.streams.invalid = self._invalid
        self.progress: list[Callable[[bytes, int, int], None]] = []  # (root, bytes held, total): the UI listens
        # Tests and `bench files`: never dial TCP (also HUBBUB_FILES_DATACHANNEL=1, for a `hubbub node`).
        self.force_datachannel = os.environ.get("HUBBUB_FILES_DATACHANNEL") == "1"
        self._fetches: dict[bytes, Fetch] = {}  # root -> the fetch bringing it (stopped if its message goes)
        self._tasks: set[asyncio.Task[None]] = set()
        self._hooked: set[bytes] = set()

    # ----- lifecycle and wiring -------------------------------------------------------------

    async def async_start(self) -> None:
        await self.streams.async_start()
        self._spawn(self._async_evict())

    async def async_stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for fetch in self._fetches.values():
            fetch.abort("stopping")
        await self.streams.async_stop()
        self.store.close()

    def hook(self, room: Room) -> None:
        if room.id not in self._hooked:
            self._hooked.add(room.id)
            room.watchers.append(self)

    def on_event(self, event: PeerEvent) -> None:
        if isinstance(event, Received) and event.channel == "files" and event.room_id is None:
            self.streams.on_message(event.peer, event.payload)
        elif isinstance(event, (PeerDisconnected, PeerBanned)):
            self.streams.peer_gone(event.peer)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _invalid(self, peer: bytes, reason: str) -> None:
        log.info("file transfer from %s: %s", peer.hex()[:12], reason)
        self.peer.report_invalid(peer, reason)

    # ----- serving --------------------------------------------------------------------------

    def _on_stream(self, stream: ByteStream) -> None:
        self._spawn(async_serve(stream, self.store, self.may_serve, self._invalid))

    def may_serve(self, peer: bytes, room_id: bytes, root: bytes) -> bool:
        """Chunks go only to current members of the room the file was posted in, and only while it is not deleted."""
        stored = self.store.get(root)
        if stored is None or stored.room != room_id or not self.node.has_room(room_id):
            return False
        if room_id not in self.peer.shared_rooms(peer):
            return False
        room = self.node.room(room_id)
        if not self.may_receive(peer, room):
            return False
        if stored.message:
            msg = room.view.message(stored.message, now_ms())
            if msg is None or msg.deleted:
                return False
        return True

    # ----- sending --------------------------------------------------------------------------

    async def async_send(self, room: Room, channel: str, text: str, paths: list[Path], *,
                         originals: frozenset[Path] = frozenset(), **post: object) -> str:
        """Chunk the files off the loop, then post one message carrying their manifests; returns its id."""
        found = await asyncio.to_thread(store_files, self.store, room.id, paths, originals)
        return post_with_files(self.store, room, channel, text, found, **post)

    # ----- fetching -------------------------------------------------------------------------

    def candidates(self, room: Room) -> list[bytes]:
        """Members in session who proved the room: whoever may hold its files."""
        return [p for p in self.peer.peers() if room.id in self.peer.shared_rooms(p) and self.may_receive(p, room)]

    async def async_fetch(self, room: Room, manifest: Manifest, message_id: str, *, progress: Progress | None = None,
                          patience: float = 30.0) -> None:
        """Bring every chunk of a file into the store (from any members who hold them); FetchFailed otherwise."""
        self.store.record(manifest.root, room.id, message_id, manifest.name, manifest.size, manifest.mime)
        if self.store.complete(manifest.root, manifest.size):
            return

        def relay(done: int, total: int, sources: int) -> None:
            if progress is not None:
                progress(done, total, sources)
            for listener in list(self.progress):
                with contextlib.suppress(Exception):
                    listener(manifest.root, done, total)

        async def open_stream(peer: bytes) -> ByteStream:
            stream = await self.streams.async_open(peer, force_datachannel=self.force_datachannel)
            log.info("stream to %s for %s: route %s", peer.hex()[:12], manifest.name, stream.route)
            return stream

        fetch = Fetch(self.store, room.id, manifest, open_stream=open_stream, candidates=lambda: self.candidates(room),
                      report=self._invalid, progress=relay, patience=patience)
        self._fetches[manifest.root] = fetch
        try:
            await fetch.async_run()
        finally:
            if self._fetches.get(manifest.root) is fetch:
                self._fetches.pop(manifest.root, None)
            log.info("fetched %d chunks of %s: %s", sum(fetch.served_by.values()), manifest.name,
                     ", ".join(f"{n} from {p.hex()[:12]}" for p, n in fetch.served_by.items()) or "none")

    async def async_download(self, room: Room, attachment_id: str, out: Path | None, *,
                             progress: Progress | None = None, patience: float = 30.0) -> Path | None:
        """Fetch a file and write it to `out` (None: only into the store); one-sentence HubbubError otherwise."""
        message_id, manifest = find_attachment(room, attachment_id, self.store)
        try:
            await self.async_fetch(room, manifest, message_id, progress=progress, patience=patience)
        except FetchFailed as exc:
            raise fetch_sentence(exc, manifest) from None
        if out is None:
            return None
        ids = self.store.ids(manifest.root) or []
        target = await asyncio.to_thread(assemble, self.store, manifest, ids, out)
        self.store.pin(manifest.root)  # saved by the user: kept whatever the cache limit
        return target

    # ----- removal --------------------------------------------------------------------------

    def changed(self, room: Room, result: IngestResult) -> None:
        """Room watcher: new content needs nothing here (files are fetched when shown or asked for)."""

    def purged(self, room: Room, message_ids: set[str]) -> None:
        """Room watcher: the chunks of files whose message was deleted or expired go from the disk."""
        for root in self.store.files_of(room.id, sorted(message_ids)):
            fetch = self._fetches.pop(root, None)
            if fetch is not None:
                fetch.abort("deleted")
            removed = self.store.remove(root)
            log.info("removed %d chunks of a file whose message in %s is gone", removed, room.name)

    async def _async_evict(self) -> None:
        while True:
            await asyncio.sleep(EVICT_EVERY)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.store.evict, cache_limit(self.node.profile.settings), set(self._fetches))

    def manifests(self, room: Room) -> list[tuple[str, Manifest]]:
        return room_manifests(room)


def post_with_files(store: FileStore, room: Room, channel: str, text: str, found: list[Manifest],
                    **post: object) -> str:
    """Post one message carrying `found` (already chunked into `store`); the files are pinned: we sent them."""
    for m in found:
        store.record(m.root, room.id, "", m.name, m.size, m.mime, pinned=True)
    try:
        mid = room.post(channel, text, attachments=[m.to_value() for m in found], **post)  # type: ignore[arg-type]
    except BaseException:
        for m in found:
            store.remove(m.root)
        raise
    for m in found:
        store.set_message(m.root, mid)
    return mid


def fetch_sentence(exc: FetchFailed, manifest: Manifest) -> HubbubError:
    if exc.reason == "disk":
        return DiskFull(f"The disk is full, so {manifest.name} could not be fetched.")
    if exc.reason == "deleted":
        return HubbubError(f"{manifest.name} was deleted.")
    if exc.reason == "stopping":
        return HubbubError(f"The node stopped before {manifest.name} was fetched.")
    return HubbubError(f"Nobody online holds {manifest.name}, so it cannot be fetched now.")

