"""The durability gate: received entries are shown at once, fsynced off the event loop, and passed on only after.

Entries that arrive from peers are committed without waiting for the disk
(`Room.ingest(..., durable=False)`): they are visible, and survive the process
being killed, straight away. A worker thread then fsyncs the write-ahead log while
the loop goes on. Whatever may only happen once those entries are on disk (sending
sync frames to peers: the rule is that an entry is durable before a node passes it
on) is handed to `after`, which runs it when a sync that covers it has completed.
Syncs are grouped: one fsync serves every commit made before it started.

Local writes stay durable before they return (`Store.append` with `durable=True`):
an author who passed on an entry and then lost it could sign a different one with
the same sequence number.

The same worker thread folds the write-ahead log into the database once a second
when something was written (`async_checkpoints`), so commits mostly overwrite the
log in place instead of growing it, and no checkpoint runs inside a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from crdt.errors import StoreError
from crdt.store import Store

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
CHECKPOINT_EVERY = 1.0


class DurabilityGate:
    """Syncs one store in a worker thread and runs callbacks once what they wait for is on disk."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._waiting: list[tuple[int, Callable[[], None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def is_clear(self) -> bool:
        """Whether every commit made so far is on disk."""
        return self.store.is_synced()

    def after(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the loop once every commit made so far is on disk (now, if it already is)."""
        upto = self.store.written
        if self.store.synced >= upto:
            callback()
            return
        self._waiting.append((upto, callback))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._async_run(), name="hubbub-fsync")

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hubbub-disk")
        return self._executor

    async def async_checkpoints(self, every: float = CHECKPOINT_EVERY) -> None:
        """Run until cancelled: fold the log into the database, in the worker thread, when written to."""
        loop = asyncio.get_running_loop()
        seen = -1  # the first round folds in whatever was written before it started
        while True:
            await asyncio.sleep(every)
            if self.store.commits == seen:
                continue
            seen = self.store.commits
            try:
                await loop.run_in_executor(self._worker(), self.store.checkpoint_aside)
            except StoreError as exc:
                log.warning("%s", exc)

    async def _async_run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            try:
                await loop.run_in_executor(self._worker(), self.store.sync)
            except StoreError as exc:
                log.error("%s; will try again", exc)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            synced = self.store.synced
            ready = [cb for upto, cb in self._waiting if upto <= synced]
            self._waiting = [(upto, cb) for upto, cb in self._waiting if upto > synced]
            for callback in ready:
                try:
                    callback()
                except Exception:
                    log.exception("a callback waiting for the disk failed")

    async def async_close(self) -> None:
        """Finish: sync what is left, run what waits for it, and stop the worker thread.

        A sync that keeps failing (a broken disk) must not keep the node from stopping: the
        retrying task is cancelled, and one last sync is tried here.
        """
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)  # a sync already running in the thread finishes first
            self._executor = None
        if not self.store.is_synced():
            try:
                self.store.sync()
            except StoreError as exc:
                log.error("%s", exc)
        waiting, self._waiting = self._waiting, []
        if self.store.is_synced():
            for _upto, callback in waiting:
                callback()
