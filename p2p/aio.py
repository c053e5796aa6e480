"""Waiting on an asyncio.Event with a timeout without ever swallowing a cancellation.

On Python 3.11, `asyncio.wait_for(event.wait(), t)` returns normally when the task is cancelled in
the same loop tick as the event is set (CPython gh-86296, fixed in 3.12): a `while True` loop built
on it then outlives its `cancel()`, and whoever awaits it after cancelling (a node stopping) waits
for ever. `asyncio.timeout` counts cancellations and does not have that race.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set (True) or `timeout` seconds pass (False); a cancellation always propagates."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def async_cancel(task: asyncio.Future[object] | asyncio.Future[None], grace: float = 1.0) -> None:
    """Cancel `task` and wait until it has ended, cancelling again each `grace` seconds it goes on.

    One cancel is not enough on 3.11: any `wait_for` the task is in may swallow it (see above), and a
    loop then carries on. Never raises; the task's own exception, if any, is left on it.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=grace)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
