"""p2p/aio.py: a loop waiting on an event stops when cancelled, even in the tick the event is set."""

from __future__ import annotations

import asyncio

from p2p.aio import async_cancel, wait_set


async def _loop(event: asyncio.Event, rounds: list[int]) -> None:
    while True:
        await wait_set(event, 60.0)
        event.clear()
        rounds.append(1)


def test_waiting_returns_whether_the_event_was_set() -> None:
    async def main() -> tuple[bool, bool]:
        event = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, event.set)
        return await wait_set(event, 1.0), await wait_set(asyncio.Event(), 0.01)

    assert asyncio.run(main()) == (True, False)


def test_a_cancel_in_the_tick_the_event_is_set_stops_the_loop() -> None:
    async def main() -> int:
        stopped = 0
        for _ in range(50):
            event, rounds = asyncio.Event(), []
            task = asyncio.ensure_future(_loop(event, rounds))
            await asyncio.sleep(0)  # the loop is waiting
            event.set()
            task.cancel()  # same tick: asyncio.wait_for on 3.11 would return True here and loop on
            try:
                await asyncio.wait_for(asyncio.shield(task), 1.0)
            except asyncio.CancelledError:
                stopped += 1
            except TimeoutError:
                task.cancel()
        return stopped

    assert asyncio.run(main()) == 50


async def _swallows_one_cancel(event: asyncio.Event) -> None:
    """The 3.11 race on purpose: the first cancel arrives while `wait_for`'s event is set, and is lost."""
    while True:
        try:
            await asyncio.wait_for(event.wait(), 60)
        except asyncio.TimeoutError:
            pass
        event.clear()


def test_async_cancel_ends_a_task_that_swallowed_a_cancel() -> None:
    async def main() -> bool:
        event = asyncio.Event()
        task = asyncio.ensure_future(_swallows_one_cancel(event))
        await asyncio.sleep(0)
        event.set()
        task.cancel()  # swallowed: the task goes on waiting for the next 60 s
        await asyncio.sleep(0.05)
        swallowed = not task.done()
        await asyncio.wait_for(async_cancel(task, grace=0.1), 2.0)
        return swallowed and task.cancelled()

    assert asyncio.run(main()) is True
