"""A bounded shutdown: wait for a stop coroutine, and if it is slow say what is still running.

`hubbub node` stops on SIGTERM; a part that hangs while stopping (a peer that never answers a close,
a disk that does not return) must neither keep the process alive for ever nor leave no trace. After
`warn_after` seconds the stacks of every task and thread go to the log; after `give_up_after` more
the stop is cancelled and the process goes on to close the profile.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import threading
import traceback
from collections.abc import Awaitable

log = logging.getLogger(__name__)


def running_stacks() -> str:
    """The stacks of every asyncio task of the running loop and of every thread, as text."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        print(f"task {task.get_name()}:", file=out)
        task.print_stack(limit=12, file=out)
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        print(f"thread {names.get(ident, ident)}:", file=out)
        traceback.print_stack(frame, limit=12, file=out)
    return out.getvalue()


async def async_stop_within(stopping: Awaitable[None], what: str, warn_after: float = 10.0,
                            give_up_after: float = 10.0) -> bool:
    """Await `stopping`; True if it ended (its exception, if any, is raised), False if it was given up."""
    task = asyncio.ensure_future(stopping)
    done, _ = await asyncio.wait({task}, timeout=warn_after)
    if not done:
        log.warning("%s is slow to stop (%.0f s); still running:\n%s", what, warn_after, running_stacks())
        done, _ = await asyncio.wait({task}, timeout=give_up_after)
    if not done:
        log.error("%s did not stop within %.0f s; giving up on it", what, warn_after + give_up_after)
        task.cancel()
        return False
    task.result()
    return True
