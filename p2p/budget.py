"""Token buckets and bounded per-key tables of them (sans-IO: time is passed in)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class TokenBucket:
    """`rate` tokens a second, at most `burst` held; starts full."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_time(self, now: float) -> float:
        """Seconds until a token is there (0.0 if one is now)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate

    def full(self, now: float) -> bool:
        self._refill(now)
        return self._tokens >= self.burst


class BucketTable(Generic[K]):
    """One token bucket per key, at most `max_keys` of them; the least recently used goes first.

    Forgetting a key refills its bucket, so the cap must be large next to the number of honest
    sources; an attacker rotating through more keys than that gains one burst per key.
    """

    def __init__(self, rate: float, burst: float, max_keys: int) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[K, TokenBucket] = OrderedDict()

    def take(self, key: K, now: float) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)

    def __len__(self) -> int:
        return len(self._buckets)


class Counter(Generic[K]):
    """Counts per key that go back to zero (and disappear) when released."""

    def __init__(self) -> None:
        self._counts: dict[K, int] = {}

    def get(self, key: K) -> int:
        return self._counts.get(key, 0)

    def add(self, key: K) -> None:
        self._counts[key] = self._counts.get(key, 0) + 1

    def remove(self, key: K) -> None:
        count = self._counts.get(key, 0) - 1
        if count > 0:
            self._counts[key] = count
        else:
            self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)
