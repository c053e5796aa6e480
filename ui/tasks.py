"""Running coroutines from Qt slots: on the qasync loop when it runs, else to completion (tests, dialogs before launch)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)
_tasks: set[asyncio.Future[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any]) -> None:
    """Schedule `coro` on the running asyncio loop (qasync's, inside the Qt loop); keep a reference until it ends."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is not None and loop.is_running():
        task = asyncio.ensure_future(coro, loop=loop)
        _tasks.add(task)
        task.add_done_callback(_finished)
        return
    runner = asyncio.new_event_loop()
    try:
        runner.run_until_complete(coro)
    finally:
        runner.close()


def _finished(task: asyncio.Future[Any]) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", exc_info=task.exception())
