"""What the relay does with each frame a client sends: check the limits, answer, forward or store."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from p2p.relay.errors import RelayQuotaError
from p2p.relay.mailbox_store import cost
from p2p.relay.wire import Frame, Kind, WireError, decode, encode, error, read_u32, read_u64, u32, u64

if TYPE_CHECKING:
    from p2p.relay.server import Connection, RelayServer

log = logging.getLogger("hubbub.relay")

REQUESTS = (Kind.SUBSCRIBE, Kind.FORWARD, Kind.PUT, Kind.GET, Kind.TURN)


def short(data: bytes) -> str:
    """What a log may show of a token or handle: its first 2 bytes in hex."""
    return data[:2].hex()


class Dispatcher:
    """Handles the frames of every connection of one `RelayServer`."""

    def __init__(self, server: RelayServer) -> None:
        self.server = server
        self.limits = server.limits

    async def async_frame(self, conn: Connection, data: bytes) -> bool:
        """Handle one binary message; True when it counts as a strike (malformed or over the rate)."""
        try:
            frame = decode(data, max_size=self.limits.max_frame)
        except WireError as exc:
            log.debug("conn %d: malformed frame of %d bytes: %s", conn.number, len(data), exc)
            conn.send(error(0, "malformed", "the relay could not read that frame"))
            return True
        if frame.kind not in REQUESTS:
            conn.send(error(frame.request, "malformed", f"a client does not send {frame.kind.name}"))
            return True
        if not conn.limits.requests.take(time.monotonic()):
            conn.send(error(frame.request, "rate", "too many requests; slow down"))
            return True
        try:
            await self._async_handle(conn, frame)
        except RelayQuotaError as exc:
            self.server.counters["errors"] += 1
            conn.send(error(frame.request, "quota", str(exc)))
        except Exception:
            log.exception("conn %d: unexpected error handling %s", conn.number, frame.kind.name)
            conn.send(error(frame.request, "internal", "the relay failed to handle that request"))
        return False

    async def _async_handle(self, conn: Connection, frame: Frame) -> None:
        kind = frame.kind
        if kind is Kind.FORWARD:
            self._forward(conn, frame)
        elif kind is Kind.SUBSCRIBE:
            changed, refused = self.server.rendezvous.subscribe(conn, frame.items, time.monotonic())
            log.debug("conn %d: subscribed %d tokens", conn.number, len(frame.items))
            conn.send(encode(Kind.OK, frame.request))
            for sentence in dict.fromkeys(refused):
                conn.send(error(0, "limit", sentence))
            self.server.notify(changed)
        elif kind is Kind.PUT:
            await self._async_put(conn, frame)
        elif kind is Kind.GET:
            await self._async_get(conn, frame)
        elif kind is Kind.TURN:
            self._turn(conn, frame)

    def _forward(self, conn: Connection, frame: Frame) -> None:
        token, handle, payload = frame.fields
        rendezvous = self.server.rendezvous
        mine = rendezvous.handle_of(conn, token)
        if mine is None:
            conn.send(error(frame.request, "not-subscribed", "forwarding needs a subscription to that token"))
            return
        target = rendezvous.resolve(token, handle)
        if target is None or target is conn:
            conn.send(error(frame.request, "gone", "that peer is no longer at the relay"))
            return
        if not conn.limits.forwards.take(len(payload), time.monotonic()):
            conn.send(error(frame.request, "rate", "too much forwarded too fast; slow down"))
            return
        self.server.counters["forwards"] += 1
        log.debug("conn %d: forward %d bytes under %s to %s", conn.number, len(payload), short(token), short(handle))
        target.send(encode(Kind.DELIVER, 0, token, mine, payload))  # type: ignore[attr-defined]

    async def _async_put(self, conn: Connection, frame: Frame) -> None:
        auth = frame.fields[0]
        envelopes = list(frame.items)
        if not envelopes:
            conn.send(encode(Kind.STORED, frame.request))
            return
        if len(envelopes) > self.limits.max_batch:
            raise RelayQuotaError(f"a put holds at most {self.limits.max_batch} envelopes")
        spend = sum(cost(e) for e in envelopes)
        if not conn.limits.puts.spend(spend, time.monotonic()):
            raise RelayQuotaError(f"this connection put its {self.limits.put_quota_per_hour // 1048576} MiB "
                                  "for this hour; try again later")
        seqs = await self.server.in_store(self.server.store.put, auth, envelopes, time.time())
        self.server.counters["puts"] += 1
        log.debug("conn %d: stored %d envelopes (%d bytes)", conn.number, len(envelopes), spend)
        conn.send(encode(Kind.STORED, frame.request, items=[u64(s) for s in seqs]))

    async def _async_get(self, conn: Connection, frame: Frame) -> None:
        auth, after, limit = frame.fields
        count = max(1, min(read_u32(limit), self.limits.max_batch))
        budget = self.limits.max_frame - 4096
        found, last = await self.server.in_store(self.server.store.get, auth, read_u64(after), count, budget)
        self.server.counters["gets"] += 1
        log.debug("conn %d: read %d envelopes", conn.number, len(found))
        conn.send(encode(Kind.ENVELOPES, frame.request, u64(last), items=[u64(s) + e for s, e in found]))

    def _turn(self, conn: Connection, frame: Frame) -> None:
        turn = self.server.turn
        if turn is None:
            conn.send(encode(Kind.CREDENTIALS, frame.request, b"", b"", u32(0), b""))
            return
        if not conn.limits.turn.take(time.monotonic()):
            conn.send(error(frame.request, "rate", "TURN credentials were asked for too often; slow down"))
            return
        creds = turn.credentials(time.time(), self.limits.turn_ttl)
        log.debug("conn %d: TURN credentials for %d s", conn.number, creds.ttl)
        conn.send(encode(Kind.CREDENTIALS, frame.request, creds.username.encode(), creds.password.encode(),
                         u32(creds.ttl), "\n".join(creds.urls).encode()))
