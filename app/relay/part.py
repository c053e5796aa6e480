"""`Relays`, the NodeService part for relays: one client per relay in use, its rendezvous tokens, TURN and mailboxes.

Which relays: every room's (room state) and the profile's own, plus those an invite being redeemed
names; a join is met on the invite's relays and the profile's own (`settings.join_relays`). Per
relay the part keeps a `RelayLink`: the `RelayClient` (p2p/relay), its `RelayRoute` added to the
peer node as a discovery source and a signaling path, and the `MailboxRoute`. The
rendezvous tokens it subscribes are derived from the keys of the rooms that use that relay, from
their usable invites, and from the invites we are redeeming (app/relay/keys.py). The first relay
that offers TURN gives the peer node its ICE servers; from its connect until they arrive, sessions
off the LAN wait for them (`PeerNode.expect_turn`, at most 1.5 s). Everything runs on the node's
loop; a relay that is down costs a reconnect with backoff and nothing else: LAN discovery never
waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crdt.entry import Entry
from p2p.aio import async_cancel, wait_set
from p2p.relay.client import RelayClient
from p2p.relay.config import RelayTimings
from p2p.relay.errors import RelayError, RelayQuotaError
from p2p.relay.route import RelayRoute

from ..errors import HubbubError
from ..node import Node
from ..room import Room, now_ms
from .cursors import RelayCursors
from .keys import Rendezvous, hour_of
from .mailbox import MailboxRoute, recent_keys
from .settings import join_relays, profile_relays, relays_for

if TYPE_CHECKING:
    from p2p.node import PeerNode

    from ..joins import Joins

log = logging.getLogger(__name__)

MAX_TOKENS = 64          # tokens subscribed on one relay (the relay's default cap per connection)
OLD_KEYS = 2             # older room keys also met under (this hour's token only): members who missed a rotation
PULL_INTERVAL = 60.0     # seconds between pulls of every mailbox while connected (and at every connect)
TURN_REFRESH = 20 * 60.0  # seconds between fresh TURN credentials (they live an hour)
RETRY = 5.0              # seconds before a push or pull that failed is tried again
LINGER = 60.0            # seconds a token stays subscribed after it stopped being needed (a join just done)


@dataclass
class RelayLink:
    """One relay in use: its client, route and mailbox, and what is waiting to be pushed."""

    client: RelayClient
    route: RelayRoute
    mailbox: MailboxRoute
    rooms: set[bytes] = field(default_factory=set)
    dirty: set[bytes] = field(default_factory=set)    # rooms with entries of ours to push
    pull_due: bool = True
    turn_due: bool = True
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    tokens: int = 0
    lingering: dict[bytes, tuple[bytes, float]] = field(default_factory=dict)  # token -> (seal key, until)
    subscribed: dict[bytes, bytes] = field(default_factory=dict)

    def subscribe(self, wanted: dict[bytes, bytes], now: float) -> None:
        """Subscribe `wanted`, and for LINGER seconds more the tokens that just stopped being wanted.

        A join that just finished (or an invite just spent) changes the tokens while the session it
        made is still settling; withdrawing them at once would withdraw the hints that session came from."""
        for token, seal in self.subscribed.items():
            if token not in wanted and token not in self.lingering:
                self.lingering[token] = (seal, now + LINGER)
        self.lingering = {t: v for t, v in self.lingering.items() if v[1] > now and t not in wanted}
        tokens = dict(wanted)
        for token, (seal, _until) in self.lingering.items():
            if len(tokens) >= MAX_TOKENS:
                break
            tokens[token] = seal
        if tokens != self.subscribed:
            self.subscribed = tokens
            self.client.subscribe(tokens)
        self.tokens = len(wanted)

    def status(self, node: Node) -> dict[str, Any]:
        s = self.mailbox.stats
        unacked = sum(self.mailbox.unacked(node.room(r)) for r in sorted(self.rooms) if node.has_room(r))
        return {"url": self.client.url, "connected": self.client.connected,
                "error": "" if self.client.connected else self.client.last_error,
                "turn": self.client.has_turn, "rooms": len(self.rooms), "tokens": self.tokens,
                "pushed": s.pushed, "pulled": s.pulled, "stored": s.stored, "unreadable": s.unreadable,
                "refused": s.refused, "unacked": unacked, "mailbox_error": s.last_error}


class Relays:
    """The relays this node uses, kept in step with its rooms, its profile and its joins."""

    def __init__(self, node: Node, peer: PeerNode, joins: Joins, *, timings: RelayTimings | None = None,
                 pull_interval: float = PULL_INTERVAL, changed: Callable[[], None] = lambda: None) -> None:
        self.node = node
        self.peer = peer
        self.joins = joins
        self.timings = timings
        self.pull_interval = pull_interval
        self._changed = changed
        self.links: dict[str, RelayLink] = {}
        self._cursors: RelayCursors | None = None
        self._running = False
        self._turn_from: str | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._adding: set[asyncio.Task[None]] = set()
        self._seen_relays: dict[bytes, list[str]] = {}

    # ----- lifecycle -------------------------------------------------------------------------------

    async def async_start(self) -> None:
        self._running = True
        self._ticker = asyncio.create_task(self._async_tick(), name="hubbub-relay-hour")
        self.refresh()

    async def async_stop(self) -> None:
        self._running = False
        for task in [self._ticker, *self._adding]:
            if task is not None:
                task.cancel()
        for url in list(self.links):
            await self._async_drop(url)
        if self._cursors is not None:
            self._cursors.close()
            self._cursors = None

    def cursors(self) -> RelayCursors:
        if self._cursors is None:
            self._cursors = RelayCursors(self.node.profile.path)
        return self._cursors

    # ----- which relays, which tokens ------------------------------------------------------------------

    def wanted(self) -> dict[str, set[bytes]]:
        """Relay address -> the rooms met and pushed there (a relay only a join or the profile names has none)."""
        out: dict[str, set[bytes]] = {url: set() for url in profile_relays(self.node.profile)}
        for room in self.node.open_rooms():
            if room.my_role() is None:
                continue
            for url in relays_for(room, self.node.profile):
                out.setdefault(url, set()).add(room.id)
        for join in self.joins.joins.values():
            for url in join_relays(join.invite.relays, self.node.profile) if join.invite is not None else ():
                out.setdefault(url, set())
        return out

    def tokens_for(self, url: str, rooms: Iterable[bytes], hour: int) -> dict[bytes, bytes]:
        """The tokens (-> seal keys) to subscribe on one relay, most needed first, at most MAX_TOKENS."""
        first: dict[bytes, bytes] = {}   # joins we make, and the rooms' current keys
        invites: dict[bytes, bytes] = {}  # invites we may admit joiners through
        older: dict[bytes, bytes] = {}
        for join in self.joins.joins.values():
            if (join.invite is not None and not join.granted
                    and url in join_relays(join.invite.relays, self.node.profile)):
                first.update(Rendezvous.for_invite(join.invite.secret).tokens(hour))
        now = now_ms()
        for room_id in sorted(rooms):
            room = self.node.room(room_id)
            current = room.log.current_key()
            if current is not None:
                first.update(Rendezvous.for_room_key(current).tokens(hour))
            for key in recent_keys(room, 1 + OLD_KEYS)[1 if current is not None else 0:]:
                rdv = Rendezvous.for_room_key(key)
                older[rdv.token(hour)] = rdv.seal_key
            for inv in reversed(list(room.log.state().invites.values())):  # newest first
                if not inv.exhausted and (inv.expires_ms is None or inv.expires_ms > now):
                    invites.update(Rendezvous.for_invite(inv.key).tokens(hour))
        out: dict[bytes, bytes] = {}
        for part in (first, invites, older):
            for token, seal in part.items():
                if len(out) >= MAX_TOKENS:
                    log.warning("more than %d rendezvous tokens for %s; some rooms or invites are not met there",
                                MAX_TOKENS, url)
                    return out
                out[token] = seal
        return out

    def refresh(self) -> None:
        """Bring the relays in use and their tokens in step (after rooms, keys, invites, settings or joins changed)."""
        if not self._running:
            return
        wanted = self.wanted()
        for url in [u for u in self.links if u not in wanted]:
            self._spawn(self._async_drop(url))
        hour = hour_of()
        for url, rooms in wanted.items():
            link = self.links.get(url)
            if link is None:
                try:
                    link = self._make_link(url)
                except (RelayError, HubbubError) as exc:
                    log.warning("not using the relay %s: %s", url, exc)
                    continue
            new_rooms = rooms - link.rooms
            link.rooms = set(rooms)
            link.subscribe(self.tokens_for(url, rooms, hour), time.monotonic())
            if new_rooms:
                link.dirty |= new_rooms
                link.pull_due = True
                link.wake.set()

    def _make_link(self, url: str) -> RelayLink:
        client = RelayClient(url, timings=self.timings)
        link = RelayLink(client, RelayRoute(client), MailboxRoute(client, self.cursors()))
        self.links[client.url] = link

        def connected() -> None:
            if client.has_turn and self._turn_from in (None, client.url):
                self.peer.expect_turn()  # sessions off the LAN wait (briefly) for the credentials asked for now
            link.pull_due = link.turn_due = True
            link.dirty |= link.rooms
            link.wake.set()
            self._changed()

        client.on_connected(connected)
        self._spawn(self._async_add(link))
        return link

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._adding.add(task)
        task.add_done_callback(self._adding.discard)

    async def _async_add(self, link: RelayLink) -> None:
        await self.peer.async_add_path(link.route)
        await self.peer.async_add_source(link.route)
        await link.client.async_start()
        link.task = asyncio.create_task(self._async_work(link), name=f"hubbub-relay {link.client.url}")
        self._changed()

    async def _async_drop(self, url: str) -> None:
        link = self.links.pop(url, None)
        if link is None:
            return
        if link.task is not None:
            await async_cancel(link.task)
        with contextlib.suppress(Exception):
            await self.peer.async_remove_source(link.route.name)  # stops the route (both halves) ...
            await self.peer.async_remove_path(link.route.name)  # ... and the node forgets its path
        await link.client.async_stop()
        if self._turn_from == url:
            self._turn_from = None
            self.peer.set_ice_servers([])
            for other in self.links.values():
                other.turn_due = True
                other.wake.set()
                if other.client.connected and other.client.has_turn:
                    self.peer.expect_turn()  # another relay's credentials are asked for now
        self._changed()

    # ----- the work of one relay ---------------------------------------------------------------------

    def on_entries(self, room: Room, entries: list[Entry]) -> None:
        """Entries a room just held: ours are pushed to the room's relays; a change of its relays is followed."""
        relays = relays_for(room, self.node.profile)
        if self._seen_relays.get(room.id) != relays:
            self._seen_relays[room.id] = relays
            self.refresh()
        me = self.node.profile.public_key
        if not any(e.author == me for e in entries):
            return
        for link in self.links.values():
            if room.id in link.rooms:
                link.dirty.add(room.id)
                link.wake.set()

    async def _async_work(self, link: RelayLink) -> None:
        last_turn = 0.0
        while True:
            if not await wait_set(link.wake, self.pull_interval):  # never swallows our cancel (p2p/aio.py)
                link.pull_due = True
            link.wake.clear()
            if not link.client.connected:
                continue  # the connect callback wakes us
            if time.monotonic() - last_turn > TURN_REFRESH:
                link.turn_due = True
            dirty, link.dirty = link.dirty, set()
            try:
                if link.turn_due:
                    link.turn_due = False
                    last_turn = time.monotonic()
                    await self._async_turn(link)
                for room_id in sorted(dirty):
                    if self.node.has_room(room_id):
                        await link.mailbox.async_push(self.node.room(room_id))
                        dirty.discard(room_id)
                if link.pull_due:
                    link.pull_due = False
                    for room_id in sorted(link.rooms):
                        await link.mailbox.async_pull(self.node.room(room_id))
                link.mailbox.stats.last_error = ""
            except (RelayError, HubbubError) as exc:
                link.dirty |= dirty
                link.pull_due = True
                link.mailbox.stats.last_error = str(exc)
                level = logging.WARNING if isinstance(exc, RelayQuotaError) else logging.INFO
                log.log(level, "relay %s: %s", link.client.url, exc)
                await asyncio.sleep(RETRY)
                link.wake.set()
            self._changed()

    async def _async_turn(self, link: RelayLink) -> None:
        if not link.client.has_turn or self._turn_from not in (None, link.client.url):
            return
        servers = await link.client.async_turn_servers()
        if servers:
            self._turn_from = link.client.url
            self.peer.set_ice_servers(servers)
            log.info("TURN through %s (%d servers)", link.client.url, len(servers))

    async def _async_tick(self) -> None:
        """Tokens rotate on the hour: the new hour's set is subscribed a moment after it starts."""
        while True:
            await asyncio.sleep(min(30.0, LINGER / 2))
            self.refresh()  # the new hour's tokens, and lingering ones let go

    # ----- what the CLI and the UI show -----------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        return [link.status(self.node) for _, link in sorted(self.links.items())]

