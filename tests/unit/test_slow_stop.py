"""app/slow_stop.py: a stop that hangs is reported with what still runs, then given up; a quick one is awaited."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.slow_stop import async_stop_within


async def _quick() -> None:
    await asyncio.sleep(0)


async def _hangs_on_a_close() -> None:
    await asyncio.Event().wait()


async def _fails() -> None:
    raise RuntimeError("the disk went away")


def test_a_quick_stop_is_awaited() -> None:
    assert asyncio.run(async_stop_within(_quick(), "quick", 1.0, 1.0)) is True


def test_a_failing_stop_raises_its_error() -> None:
    with pytest.raises(RuntimeError, match="disk went away"):
        asyncio.run(async_stop_within(_fails(), "failing", 1.0, 1.0))


def test_a_hanging_stop_is_reported_with_its_stack_then_given_up(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="app.slow_stop")

    async def main() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        ended = await async_stop_within(_hangs_on_a_close(), "the networking", 0.2, 0.2)
        return ended, loop.time() - start

    ended, took = asyncio.run(main())
    assert ended is False and 0.35 < took < 2.0
    text = caplog.text
    assert "the networking is slow to stop" in text and "_hangs_on_a_close" in text
    assert "did not stop within" in text and "giving up" in text
