"""The relay's abuse limits, sans-IO: connections per IP, request and byte rates, hourly put quotas.

Each check returns None when allowed, or the one sentence the client gets in an ERROR frame.
Time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from p2p.budget import Counter, TokenBucket
from p2p.relay.config import RelayLimits

HOUR = 3600.0


class ByteBucket:
    """`rate` bytes a second, at most `burst` held; starts full. A message larger than the burst never fits."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._level = burst
        self._at = now

    def take(self, amount: int, now: float) -> bool:
        if now > self._at:
            self._level = min(self.burst, self._level + (now - self._at) * self.rate)
            self._at = now
        if amount <= self._level:
            self._level -= amount
            return True
        return False


@dataclass
class HourlyQuota:
    """Bytes spent in the current hour-long window (fixed windows, started at the first spend)."""

    limit: int
    window_start: float = 0.0
    spent: int = 0

    def spend(self, amount: int, now: float) -> bool:
        if now - self.window_start >= HOUR:
            self.window_start, self.spent = now, 0
        if self.spent + amount > self.limit:
            return False
        self.spent += amount
        return True


@dataclass
class ConnectionLimits:
    """What one connection may still do."""

    requests: TokenBucket
    forwards: ByteBucket
    turn: TokenBucket
    puts: HourlyQuota
    strikes: int = 0
    notes: list[str] = field(default_factory=list)


class Limits:
    """Admission of connections and the per-connection budgets."""

    def __init__(self, limits: RelayLimits) -> None:
        self.limits = limits
        self.per_ip: Counter[str] = Counter()
        self.connections = 0
        self.refused_connections = 0

    def admit(self, ip: str) -> str | None:
        """Count a new connection from `ip`, or say why it is refused."""
        if self.connections >= self.limits.max_connections:
            self.refused_connections += 1
            return "the relay is full; try again later"
        if self.per_ip.get(ip) >= self.limits.connections_per_ip:
            self.refused_connections += 1
            return f"at most {self.limits.connections_per_ip} connections from one address are allowed"
        self.connections += 1
        self.per_ip.add(ip)
        return None

    def release(self, ip: str) -> None:
        self.connections -= 1
        self.per_ip.remove(ip)

    def for_connection(self, now: float) -> ConnectionLimits:
        lim = self.limits
        return ConnectionLimits(
            requests=TokenBucket(lim.request_rate, lim.request_burst, now),
            forwards=ByteBucket(lim.forward_bytes_rate, 4 * lim.forward_bytes_rate, now),
            turn=TokenBucket(lim.turn_rate, lim.turn_burst, now),
            puts=HourlyQuota(lim.put_quota_per_hour),
        )
