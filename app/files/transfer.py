"""Chunks over byte streams: a holder serving the chunk protocol, and one file fetched from several holders at once.

A fetch asks every member in session for the file's hash list (the first that matches the root wins) and for
which chunks each holds, then keeps each holder's window full (`DownloadPlan`). Chunks are checked against their
ids and written off the event loop, through a short queue, so at most a few chunks per holder are in memory
whatever the file's size. A holder that goes away leaves its chunks to the others; one that sends a bad chunk is
reported and the chunk is asked of someone else; members who come online during the fetch join it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from p2p.aio import wait_set
from p2p.byte_stream import ByteStream, StreamError

from .chunks import ChunkError, check_list
from .manifest import Manifest
from .protocol import (
    NOT_ALLOWED,
    NOT_HELD,
    Chunk,
    FileProtocolError,
    HashList,
    Have,
    HaveQuery,
    ListQuery,
    Nope,
    Want,
    chunk_header,
    decode,
    encode,
)
from .schedule import DownloadPlan
from .store import FileStore

log = logging.getLogger(__name__)

LIST_INDEX = 0xFFFFFFFF  # a NOPE for the hash list rather than a chunk
MAX_QUEUED = 64  # requests one client may have waiting (a window is 8)
WRITERS = 3  # chunks checked and written at once (hashing runs in parallel with the network)
Encoded = bytes | bytearray  # a frame as it goes on the stream
MayServe = Callable[[bytes, bytes, bytes], bool]  # (peer, room id, root)
Report = Callable[[bytes, str], None]  # (peer, what it did wrong)
Progress = Callable[[int, int, int], None]  # (bytes held, total, sources)


class FetchFailed(Exception):
    """A fetch that cannot finish: `reason` is "nobody", "deleted" or "disk"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


async def async_serve(stream: ByteStream, store: FileStore, may_serve: MayServe, report: Report) -> None:
    """Answer one client's requests, in order, until its stream ends. Chunks are read from disk ahead (in worker
    threads) while earlier answers are being sent; the client's window bounds how many are in hand."""
    peer = stream.peer
    answers: asyncio.Queue[asyncio.Future[Encoded] | None] = asyncio.Queue()
    sender = asyncio.ensure_future(_async_send_answers(stream, answers))
    try:
        while not sender.done():
            message = await stream.recv()
            if message is None:
                return
            try:
                frame = decode(message)
            except FileProtocolError as exc:
                report(peer, f"sent a bad chunk request ({exc})")
                return
            if answers.qsize() > MAX_QUEUED:
                report(peer, "asked for more chunks at once than a window holds")
                return
            answer: asyncio.Future[Encoded]
            if isinstance(frame, HaveQuery):
                held = store.have(frame.root) if may_serve(peer, frame.room, frame.root) else b""
                answer = _done(encode(Have(frame.root, bytes(held))))
            elif isinstance(frame, ListQuery):
                blob = store.list_bytes(frame.root) if may_serve(peer, frame.room, frame.root) else None
                answer = _done(encode(HashList(frame.root, blob) if blob else Nope(frame.root, LIST_INDEX, NOT_HELD)))
            elif isinstance(frame, Want):
                answer = asyncio.ensure_future(_chunk_reply(store, may_serve, peer, frame))
            else:
                report(peer, "sent an answer where a request belongs")
                return
            answers.put_nowait(answer)
    except StreamError:
        return
    finally:
        answers.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError, StreamError):
            await sender
        stream.close()


def _done(frame: Encoded) -> asyncio.Future[Encoded]:
    fut: asyncio.Future[Encoded] = asyncio.get_running_loop().create_future()
    fut.set_result(frame)
    return fut


async def _async_send_answers(stream: ByteStream, answers: asyncio.Queue[asyncio.Future[Encoded] | None]) -> None:
    while True:
        answer = await answers.get()
        if answer is None or stream.closed:
            return
        await stream.send(await answer)


async def _chunk_reply(store: FileStore, may_serve: MayServe, peer: bytes, want: Want) -> Encoded:
    """A CHUNK frame read from disk (not re-hashed: the fetcher checks it), or a NOPE."""
    if not may_serve(peer, want.room, want.root):
        return encode(Nope(want.root, want.index, NOT_ALLOWED))
    ids = store.ids(want.root)
    if ids is None or want.index >= len(ids):
        return encode(Nope(want.root, want.index, NOT_HELD))
    frame = await asyncio.to_thread(store.read_chunk_frame, ids[want.index], chunk_header(want.root, want.index))
    return frame if frame is not None else encode(Nope(want.root, want.index, NOT_HELD))


@dataclass
class _Arrival:
    peer: bytes
    index: int
    sealed: bytes | memoryview


class Fetch:
    """One file fetched into the store from whichever members hold it."""

    def __init__(self, store: FileStore, room_id: bytes, manifest: Manifest, *,
                 open_stream: Callable[[bytes], Awaitable[ByteStream]], candidates: Callable[[], list[bytes]],
                 report: Report, progress: Progress | None = None, patience: float = 30.0) -> None:
        self.store = store
        self.room_id = room_id
        self.manifest = manifest
        self.root = manifest.root
        self._open = open_stream
        self._candidates = candidates
        self._report = report
        self._progress = progress
        self.patience = patience
        self.plan: DownloadPlan | None = None
        self.streams: dict[bytes, ByteStream] = {}
        self._tried: dict[bytes, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids_ready: asyncio.Future[list[bytes]] | None = None
        self._arrivals: asyncio.Queue[_Arrival] = asyncio.Queue(maxsize=8)
        self._changed = asyncio.Event()
        self._disk_error: OSError | None = None
        self._aborted = ""
        self.served_by: dict[bytes, int] = {}

    def abort(self, reason: str) -> None:
        """Stop the fetch: it raises FetchFailed(reason) ("deleted": its message went away)."""
        self._aborted = reason
        self._changed.set()

    async def async_run(self) -> None:
        """Fetch until every chunk is held and checked; raises FetchFailed otherwise."""
        loop = asyncio.get_running_loop()
        self._ids_ready = loop.create_future()
        ids = self.store.ids(self.root)
        if ids is not None:
            self._ids_ready.set_result(ids)
        writer = asyncio.create_task(self._async_write())
        try:
            self._look_for_sources()
            deadline = loop.time() + self.patience
            while True:
                if self._aborted:
                    raise FetchFailed(self._aborted)
                if self._disk_error is not None:
                    raise FetchFailed("disk", str(self._disk_error))
                if self.plan is not None and self.plan.complete:
                    break
                if self._has_live_source():
                    deadline = loop.time() + self.patience
                elif loop.time() > deadline:
                    raise FetchFailed("nobody")
                self._changed.clear()
                await wait_set(self._changed, 0.5)
                self._look_for_sources()
        finally:
            writer.cancel()
            for task in list(self._tasks):
                task.cancel()
            for stream in self.streams.values():
                stream.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    def _has_live_source(self) -> bool:
        """Someone in session can still supply every missing chunk (or we are still asking)."""
        if any(t for t in self._tasks if not t.done()) and (self.plan is None or not self.plan.sources):
            return True  # streams being opened, or lists and haves being asked
        return self.plan is not None and bool(self.plan.sources) and not self.plan.stuck()

    def _look_for_sources(self) -> None:
        now = time.monotonic()
        for peer in self._candidates():
            if peer in self.streams or now - self._tried.get(peer, -1e9) < 3.0:
                continue
            self._tried[peer] = now
            self._spawn(self._async_source(peer))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----- one source ----------------------------------------------------------------------

    async def _async_source(self, peer: bytes) -> None:
        try:
            stream = await self._open(peer)
        except StreamError as exc:
            log.info("no stream to %s: %s", peer.hex()[:12], exc)
            self._changed.set()
            return
        self.streams[peer] = stream
        try:
            assert self._ids_ready is not None
            if not self._ids_ready.done():
                await stream.send(encode(ListQuery(self.room_id, self.root)))
            await stream.send(encode(HaveQuery(self.room_id, self.root)))
            while True:
                message = await stream.recv()
                if message is None:
                    return
                try:
                    frame = decode(message)
                except FileProtocolError as exc:
                    self._report(peer, f"sent a bad chunk answer ({exc})")
                    return
                if not await self._on_frame(peer, stream, frame):
                    return
        except StreamError as exc:
            log.info("stream from %s ended: %s", peer.hex()[:12], exc)
        finally:
            stream.close()
            self.streams.pop(peer, None)
            if self.plan is not None:
                self.plan.drop_source(peer)
                await self._pump_all()
            self._changed.set()

    async def _on_frame(self, peer: bytes, stream: ByteStream, frame: object) -> bool:
        """Handle one answer; False ends the conversation with this source."""
        assert self._ids_ready is not None
        if isinstance(frame, HashList):
            if frame.root != self.root or self._ids_ready.done():
                return True
            try:
                ids = check_list(self.root, self.manifest.size, frame.ids)
            except ChunkError as exc:
                self._report(peer, f"sent a hash list that does not match the file ({exc})")
                return False
            self.store.save_list(self.root, ids)
            self._ids_ready.set_result(ids)
            return True
        if isinstance(frame, Have):
            if frame.root != self.root:
                return True
            if not any(frame.held):
                return False  # it holds nothing of the file (or will not give it to us)
            try:
                ids = await asyncio.wait_for(asyncio.shield(self._ids_ready), 10.0)
            except asyncio.TimeoutError:
                return False
            if self.plan is None:
                held = self.store.have(self.root)
                self.plan = DownloadPlan(ids, self.manifest.size, (i for i, h in enumerate(held) if h))
                self._notify()
            if frame.count() == len(ids):
                self.plan.add_source(peer, frame.held)
                await self._pump(peer, stream)
            self._changed.set()
            return True
        if isinstance(frame, Chunk):
            if frame.root == self.root:
                await self._arrivals.put(_Arrival(peer, frame.index, frame.sealed))
            return True
        if isinstance(frame, Nope):
            if frame.root == self.root and self.plan is not None and frame.index != LIST_INDEX:
                self.plan.refused(peer, frame.index)
                await self._pump(peer, stream)
                self._changed.set()
            return True
        self._report(peer, "sent a request where an answer belongs")
        return False

    async def _pump(self, peer: bytes, stream: ByteStream) -> None:
        if self.plan is None or stream.closed:
            return
        for index in self.plan.next_wants(peer):
            await stream.send(encode(Want(self.room_id, self.root, index)))

    async def _pump_all(self) -> None:
        for peer, stream in list(self.streams.items()):
            with contextlib.suppress(StreamError):
                await self._pump(peer, stream)

    # ----- checking and keeping chunks (off the loop) ----------------------------------------

    async def _async_write(self) -> None:
        """Check chunks against their ids and keep them, WRITERS at a time, each in a worker thread."""
        await asyncio.gather(*(self._async_writer() for _ in range(WRITERS)))

    async def _async_writer(self) -> None:
        while True:
            arrival = await self._arrivals.get()
            plan = self.plan
            if plan is None or arrival.peer not in plan.sources:
                continue  # from a source that has gone since: its chunks were asked of others
            expected = plan.ids[arrival.index] if 0 <= arrival.index < len(plan.ids) else b""
            try:
                cid = await asyncio.to_thread(self.store.put_checked, expected, arrival.sealed)
            except OSError as exc:
                self._disk_error = exc
                self._changed.set()
                return
            verdict = plan.check(arrival.peer, arrival.index, cid)
            if not verdict.ok:
                self._report(arrival.peer, verdict.reason)
                await self._pump_all()
                self._changed.set()
                continue
            plan.stored(arrival.peer, arrival.index)
            self.store.mark(self.root, arrival.index)
            self.served_by[arrival.peer] = self.served_by.get(arrival.peer, 0) + 1
            self._notify()
            stream = self.streams.get(arrival.peer)
            if stream is not None:
                with contextlib.suppress(StreamError):
                    await self._pump(arrival.peer, stream)
            if plan.complete:
                self._changed.set()

    def _notify(self) -> None:
        if self._progress is not None and self.plan is not None:
            self._progress(self.plan.done_bytes, self.manifest.size, len(self.plan.sources))
