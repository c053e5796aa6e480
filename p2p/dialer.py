"""Dial targets: the peers this node keeps sessions with, redialed with backoff, within one budget.

A target is either explicit (an address the app passed to `async_connect`) or discovered (one
node id of one discovery source, whose candidate addresses live in the `HintTable`). Rules:

* **A peer, once known, is its key.** A target pins the key of its first authenticated session
  (or the key its hint named). From then on an address answering with another key is dropped
  from the target before anything is sent to it (`WrongKeyError`); a later announcement adds a
  candidate, never replaces the working one, never changes the key.
* **One budget.** Every redial waits for a token of one bucket (`Limits.dial_rate`/`dial_burst`)
  and a slot among `Limits.max_dials` (one per host), on top of each target's own exponential
  backoff. Known peers go first, then room-mates' hints, then the rest.
* **Bounded.** At most `Limits.max_targets` discovered targets; when full, the least valuable
  target without a session gives way (see `_rank`).

State of one target (docs/p2p.md has the drawing): no session -> dial candidates in order ->
session live -> closed -> short pause -> dial again; failures sleep with backoff; a new candidate,
a change of our rooms or new TURN servers wake it (also when that came during the failed round). A passive target (the other side dials, by the LAN rule) dials
only when woken or after `Timings.passive_dial_delay`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from p2p.aio import wait_set
from p2p.budget import Counter, TokenBucket
from p2p.config import Limits, Timings
from p2p.errors import P2PError, WrongKeyError
from p2p.hints import HintTable, NodeKey
from p2p.routes import Address, Hint
from p2p.session import Session

log = logging.getLogger(__name__)

DialFn = Callable[[Address, "bytes | None"], Awaitable[bytes]]
KNOWN, ROOM_MATE, UNKNOWN = 0, 1, 2
"""Dial priorities, lowest first."""
UNVOUCHED_ROUNDS = 10


@dataclass(eq=False)
class Target:
    """One peer this node keeps a session with."""

    name: str
    node: NodeKey | None = None
    """(source, node id) for a discovered target; None for an explicit one."""
    address: Address | None = None
    """The one address of an explicit target."""
    peer_key: bytes | None = None
    working: Address | None = None
    passive: bool = False
    unvouched: bool = False
    """The source stopped vouching for the pinned address: the target goes after failing for
    `UNVOUCHED_ROUNDS` full backoffs (a goodbye may be forged; a real peer that left is gone)."""
    failing_since: float | None = None
    seen_at: float = field(default_factory=time.monotonic)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Dialer:
    """Targets, their supervision tasks, and the dial budget they share."""

    def __init__(self, timings: Timings, limits: Limits, hints: HintTable, dial: DialFn,
                 live: Callable[[bytes], Session | None], is_banned: Callable[[bytes], bool],
                 ban_remaining: Callable[[bytes], float]) -> None:
        self.timings = timings
        self.limits = limits
        self.hints = hints
        self._dial = dial
        self._live = live
        self._is_banned = is_banned
        self._ban_remaining = ban_remaining
        self.targets: dict[str, Target] = {}
        self._bucket = TokenBucket(limits.dial_rate, limits.dial_burst, time.monotonic())
        self._in_flight = 0
        self._hosts: Counter[str] = Counter()
        self._queue: list[tuple[int, int, str, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.dial_times: deque[float] = deque(maxlen=4096)
        """When each budgeted dial began (time.monotonic()), for the dial-rate figures."""
        self.dials = 0
        self.wrong_keys = 0
        """Addresses dropped because another key than the target's answered there."""

    # -- targets ------------------------------------------------------------------------------------
    def add_explicit(self, address: Address, key: bytes | None) -> None:
        name = f"addr:{address}"
        if name not in self.targets:
            self._start(Target(name, address=address, peer_key=key))

    def hint_seen(self, hint: Hint, new: bool) -> None:
        """The hint table kept `hint`; make or wake its target."""
        node = (hint.source, hint.node_id)
        name = f"{hint.source}:{hint.node_id}"
        target = self.targets.get(name)
        if target is None:
            if not self._make_room(node):
                return
            target = Target(name, node=node, passive=hint.passive, peer_key=hint.peer_key)
            self._start(target)
            return
        target.seen_at = time.monotonic()
        target.passive = hint.passive
        target.unvouched = False
        if target.peer_key is None and hint.peer_key is not None:
            target.peer_key = hint.peer_key
        if new:
            target.wake.set()  # a new candidate address: try it now

    def hint_lost(self, node: NodeKey, dropped: list[Address]) -> None:
        """The source stopped vouching for some of `node`'s addresses (already out of the table)."""
        target = self.targets.get(f"{node[0]}:{node[1]}")
        if target is None:
            return
        if not self.hints.candidates(*node):
            if target.peer_key is None or self._live(target.peer_key) is None:
                self._remove(target)
        elif target.working is not None and target.working not in dropped:
            target.unvouched = True

    def wake_all(self) -> None:
        """Our rooms changed: every target without a session tries again now (passive ones too)."""
        for target in self.targets.values():
            target.wake.set()

    def _make_room(self, node: NodeKey) -> bool:
        discovered = [t for t in self.targets.values() if t.node is not None]
        if len(discovered) < self.limits.max_targets:
            return True
        worst = min(discovered, key=self._rank)
        if self._rank(worst) >= self._rank_of_new(node):
            return False
        self._remove(worst)
        return True

    def _rank(self, target: Target) -> tuple[bool, bool, bool, float]:
        live = target.peer_key is not None and self._live(target.peer_key) is not None
        mate = target.node is not None and self.hints.is_room_mate(*target.node)
        return (live, target.peer_key is not None, mate, target.seen_at)

    def _rank_of_new(self, node: NodeKey) -> tuple[bool, bool, bool, float]:
        return (False, False, self.hints.is_room_mate(*node), time.monotonic())

    def _start(self, target: Target) -> None:
        self.targets[target.name] = target
        target.task = asyncio.ensure_future(self._supervise(target))

    def _remove(self, target: Target) -> None:
        if self.targets.get(target.name) is target:
            del self.targets[target.name]
        if target.task is not None and target.task is not asyncio.current_task():
            target.task.cancel()

    async def async_stop(self) -> None:
        tasks = [t.task for t in self.targets.values() if t.task is not None]
        self.targets.clear()
        for task in tasks:
            task.cancel()
        if self._timer is not None:
            self._timer.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- supervision ------------------------------------------------------------------------------------
    def _candidates(self, target: Target) -> list[Address]:
        if target.address is not None:
            return [target.address]
        assert target.node is not None
        found = self.hints.candidates(*target.node)
        if target.working in found:
            found.remove(target.working)
            found.insert(0, target.working)
        return found

    def _priority(self, target: Target) -> int:
        if target.peer_key is not None:
            return KNOWN
        if target.node is not None and self.hints.is_room_mate(*target.node):
            return ROOM_MATE
        return UNKNOWN

    async def _supervise(self, target: Target) -> None:
        t = self.timings
        delay = t.backoff_initial
        try:
            while True:
                session = self._live(target.peer_key) if target.peer_key else None
                if session is not None:
                    await session.closed.wait()
                    target.wake.clear()  # what woke it while the session lived is past
                    await asyncio.sleep(_jitter(t.backoff_initial))
                    delay = t.backoff_initial
                    continue
                if target.peer_key is not None and self._is_banned(target.peer_key):
                    await asyncio.sleep(self._ban_remaining(target.peer_key))
                    continue
                if target.passive:
                    await self._sleep(target, _jitter(t.passive_dial_delay))
                candidates = self._candidates(target)
                if not candidates:
                    self._remove(target)
                    return
                target.wake.clear()  # a wake during the round (a new candidate, TURN servers) skips the sleep after it
                if await self._dial_round(target, candidates):
                    delay = t.backoff_initial
                    target.failing_since = None
                    continue
                now = time.monotonic()
                target.failing_since = target.failing_since or now
                if target.unvouched and now - target.failing_since > UNVOUCHED_ROUNDS * t.backoff_max:
                    log.info("dropping %s: no longer announced and not answering", target.name)
                    self._remove(target)
                    return
                await self._sleep(target, _jitter(delay))
                delay = min(delay * 2, t.backoff_max)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("dial target %s failed", target.name)
            self._remove(target)

    async def _dial_round(self, target: Target, candidates: list[Address]) -> bool:
        """Try each candidate once (each within the budget); True when a session is up."""
        for address in candidates:
            await self._acquire(self._priority(target), address.host)
            try:
                key = await self._dial(address, target.peer_key)
            except WrongKeyError:
                self.wrong_keys += 1
                log.warning("%s at %s answered with another key; address dropped", target.name, address)
                if target.node is not None:
                    self.hints.remove(*target.node, address)
                    if target.working == address:
                        target.working = None
                continue
            except (P2PError, OSError, asyncio.TimeoutError) as exc:
                log.info("dial %s at %s failed: %s", target.name, address, exc)
                continue
            finally:
                self._release(address.host)
            target.peer_key = target.peer_key or key
            if target.node is not None:
                if target.working is not None and target.working != address:
                    self.hints.pin(*target.node, target.working, False)
                self.hints.pin(*target.node, address)
            target.working = address
            target.unvouched = False
            return True
        return False

    async def _sleep(self, target: Target, seconds: float) -> None:
        await wait_set(target.wake, seconds)
        target.wake.clear()

    # -- the budget ---------------------------------------------------------------------------------------
    async def _acquire(self, priority: int, host: str) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (priority, next(self._seq), host, waiter))
        self._pump()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(host)  # granted just as we were cancelled
            raise

    def _release(self, host: str) -> None:
        self._in_flight -= 1
        self._hosts.remove(host)
        self._pump()

    def _pump(self) -> None:
        self._queue = [w for w in self._queue if not w[3].done()]
        heapq.heapify(self._queue)
        while self._queue and self._in_flight < self.limits.max_dials:
            ready = [w for w in sorted(self._queue) if not self._hosts.get(w[2])]
            if not ready:
                return
            now = time.monotonic()
            if not self._bucket.take(now):
                if self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(
                        self._bucket.wait_time(now), self._on_timer)
                return
            chosen = ready[0]
            self._queue.remove(chosen)
            heapq.heapify(self._queue)
            self._in_flight += 1
            self._hosts.add(chosen[2])
            self.dials += 1
            self.dial_times.append(now)
            chosen[3].set_result(None)

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    def stats(self) -> dict[str, int]:
        return {"targets": len(self.targets), "dials": self.dials, "dials_in_flight": self._in_flight,
                "dials_waiting": len(self._queue), "wrong_keys": self.wrong_keys}


def _jitter(delay: float) -> float:
    return delay * random.uniform(0.8, 1.2)


def spawn(tasks: set[asyncio.Task[None]], coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Run `coro` as a task kept in `tasks` until it ends."""
    task = asyncio.ensure_future(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task
