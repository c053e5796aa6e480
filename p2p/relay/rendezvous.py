"""Rendezvous, sans-IO: which connections are subscribed under which tokens, as opaque per-token handles.

A connection subscribes a set of 16-byte tokens (replacing its previous set). Under each token it
gets a random handle, fresh per (connection, token), so two tokens of one connection cannot be
linked by their handles. Every subscriber of a token is told the handles of the others; a sealed
payload sent to a handle goes to that connection only. A subscription not renewed within
`subscription_ttl` expires, and so does one held for `token_max_age` even if renewed: a token
that stopped rotating. Time is passed in.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from p2p.relay.config import RelayLimits
from p2p.relay.wire import HANDLE_SIZE


@dataclass
class Subscription:
    handle: bytes
    since: float
    renewed: float


class Rendezvous:
    """Tokens -> subscribed connections (and their handles), bounded by `RelayLimits`."""

    def __init__(self, limits: RelayLimits) -> None:
        self.limits = limits
        self._tokens: dict[bytes, dict[Hashable, Subscription]] = {}
        self._by_conn: dict[Hashable, set[bytes]] = {}
        self._handles: dict[tuple[bytes, bytes], Hashable] = {}

    def subscribe(self, conn: Hashable, tokens: Iterable[bytes], now: float) -> tuple[set[bytes], list[str]]:
        """Replace `conn`'s tokens; returns the tokens whose subscribers changed, and refusals (sentences)."""
        wanted = list(dict.fromkeys(tokens))
        refused: list[str] = []
        if len(wanted) > self.limits.max_subscriptions:
            refused.append(f"only {self.limits.max_subscriptions} tokens per connection are kept")
            wanted = wanted[: self.limits.max_subscriptions]
        held = self._by_conn.pop(conn, set())
        changed = {token for token in held if token not in wanted}
        for token in changed:
            self._remove(conn, token)
        held -= changed
        for token in wanted:
            subs = self._tokens.setdefault(token, {})
            sub = subs.get(conn)
            if sub is not None:
                if now - sub.since >= self.limits.token_max_age:
                    refused.append("a token stopped rotating and has expired")
                    self._remove(conn, token)
                    held.discard(token)
                    changed.add(token)
                else:
                    sub.renewed = now
                continue
            if len(subs) >= self.limits.max_subscribers:
                refused.append(f"a token already has {self.limits.max_subscribers} subscribers")
                continue
            handle = os.urandom(HANDLE_SIZE)
            subs[conn] = Subscription(handle, now, now)
            self._handles[(token, handle)] = conn
            held.add(token)
            changed.add(token)
        for token in wanted:
            if not self._tokens.get(token, True):
                del self._tokens[token]
        if held:
            self._by_conn[conn] = held
        return changed, refused

    def drop(self, conn: Hashable) -> set[bytes]:
        """Forget a closed connection; returns the tokens whose subscribers changed."""
        tokens = self._by_conn.get(conn, set()).copy()
        for token in tokens:
            self._remove(conn, token)
        return tokens

    def expire(self, now: float) -> set[bytes]:
        """Drop subscriptions not renewed in time or held too long; returns the tokens that changed."""
        ttl, max_age = self.limits.subscription_ttl, self.limits.token_max_age
        stale = [(conn, token) for token, subs in self._tokens.items() for conn, sub in subs.items()
                 if now - sub.renewed >= ttl or now - sub.since >= max_age]
        for conn, token in stale:
            self._remove(conn, token)
        return {token for _, token in stale}

    def subscribers(self, token: bytes) -> list[tuple[Hashable, bytes]]:
        """(connection, handle) of every subscriber of `token`."""
        return [(conn, sub.handle) for conn, sub in self._tokens.get(token, {}).items()]

    def handle_of(self, conn: Hashable, token: bytes) -> bytes | None:
        sub = self._tokens.get(token, {}).get(conn)
        return None if sub is None else sub.handle

    def resolve(self, token: bytes, handle: bytes) -> Hashable | None:
        """The connection behind `handle` under `token`, if it is still there."""
        return self._handles.get((token, handle))

    def tokens_of(self, conn: Hashable) -> set[bytes]:
        return set(self._by_conn.get(conn, ()))

    def __len__(self) -> int:
        """Tokens with at least one subscriber."""
        return len(self._tokens)

    def _remove(self, conn: Hashable, token: bytes) -> None:
        subs = self._tokens.get(token)
        sub = subs.pop(conn, None) if subs is not None else None
        if sub is not None:
            self._handles.pop((token, sub.handle), None)
        if subs is not None and not subs:
            del self._tokens[token]
        held = self._by_conn.get(conn)
        if held is not None:
            held.discard(token)
            if not held:
                del self._by_conn[conn]
