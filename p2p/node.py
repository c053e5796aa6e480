"""PeerNode: the p2p layer the app uses, composed of routes, admission, dialing and sessions.

The app hands it an identity key, the room secrets to match and the public rooms to announce; it
gets back events (`p2p.events`) on `events` (an asyncio.Queue) and through `add_listener`.

What it is made of (docs/p2p.md has the map):

* signaling paths (`p2p.routes.SignalingPath`; the LAN endpoint `p2p.lan_path.LanPath` always)
  and discovery sources (`p2p.routes.DiscoverySource`; mDNS `p2p.discovery.MdnsDiscovery` when
  `mdns=True`); more of each can be added while running (a relay adds both);
* `p2p.hints.HintTable`, where every source's hints land, bounded;
* `p2p.dialer.Dialer`, the targets it keeps sessions with, within one dial budget;
* `p2p.handshake.Signaling`, the signaling protocol over any path, with `p2p.admission.Admission`
  deciding what an inbound peer may cost before it proved anything;
* `p2p.session_table.SessionTable`, the sessions by key, the bans, and the events.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

import nacl.signing
from zeroconf import InterfaceChoice
from zeroconf._utils.net import InterfacesType

from p2p.admission import Admission
from p2p.config import Limits, Timings
from p2p.control import ControlEvent, Role
from p2p.dialer import Dialer, spawn
from p2p.discovery import MdnsDiscovery, PeerHint, lan_addresses
from p2p.errors import NotConnectedError, NotSharedError, SignalingError
from p2p.events import PeerEvent
from p2p.resources import raise_fd_limit
from p2p.handshake import Signaling
from p2p.hints import HintTable
from p2p.aio import wait_set
from p2p.ice_plan import PROBE_TIMEOUT, TURN_WAIT, IcePlan, async_probe_udp, has_turn
from p2p.lan_path import LAN, LanPath
from p2p.room_tokens import make_beacons
from p2p.rooms import PublicRoom, PublicRoomSeen, RoomSecret
from p2p.routes import Address, DiscoverySource, Hint, IceServer, SignalingPath
from p2p.session import APP_CHANNELS, ICE_FAILURES, Session
from p2p.session_table import Listener, SessionTable


class PeerNode:
    """A running peer: signaling paths, discovery, and authenticated sessions by public key."""

    def __init__(
        self,
        identity: nacl.signing.SigningKey,
        *,
        bind_host: str = "0.0.0.0",
        port: int = 0,
        mdns: bool = True,
        timings: Timings | None = None,
        mdns_interfaces: InterfacesType = InterfaceChoice.All,
        queue_events: bool = True,
        limits: Limits | None = None,
        ice_servers: Sequence[IceServer] = (),
        sources: Sequence[DiscoverySource] = (),
        paths: Sequence[SignalingPath] = (),
    ) -> None:
        """`queue_events=False`: events go only to listeners (`add_listener`), not to `events`,
        for an app that handles them as they happen and would otherwise have to drain the queue.
        `ice_servers` is the explicit STUN/TURN list for every session (empty: host candidates)."""
        self.identity = identity
        self.public_key = bytes(identity.verify_key)
        self.node_id = os.urandom(8).hex()
        """Random per start; what mDNS announces instead of the identity key."""
        self.bind_host = bind_host
        self.timings = timings or Timings()
        self.limits = limits or Limits()
        self._mdns_wanted = mdns
        self._mdns_interfaces = mdns_interfaces
        self._admission = Admission(self.limits, time.monotonic())
        self._table = SessionTable(self.timings, self._admission, queue_events=queue_events)
        self.events: asyncio.Queue[PeerEvent] = self._table.events
        self._hints = HintTable(self.limits)
        self._probe: asyncio.Task[None] | None = None
        self._signaling = Signaling(identity, self.timings, self._table, self._admission,
                                    lambda role, peer: self._new_session(role, peer), self._async_ice_ready)
        self._lan = LanPath(bind_host, port)
        self._paths: dict[str, SignalingPath] = {LAN: self._lan}
        self._paths.update({path.name: path for path in paths})
        self._sources: dict[str, DiscoverySource] = {source.name: source for source in sources}
        self._mdns: MdnsDiscovery | None = None
        self._dialer = Dialer(self.timings, self.limits, self._hints, self._dial_address,
                              self._table.live, self._table.is_banned, self._table.ban_remaining)
        self.ice = IcePlan(ice_servers)
        """Which STUN/TURN servers each new session gets (p2p.ice_plan: UDP first, then TCP)."""
        self._turn_ready = asyncio.Event()
        if has_turn(ice_servers):
            self._turn_ready.set()
        self._turn_expected_until = 0.0
        self._public_rooms: list[PublicRoom] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self.fd_limit = -1
        """The open-file soft limit after start-up raised it to the hard limit."""

    # -- lifecycle -----------------------------------------------------------------------------
    async def async_start(self) -> None:
        """Open every signaling path and, if enabled, announce and browse on mDNS."""
        self.fd_limit = raise_fd_limit()
        self._table.stopping = False
        for path in self._paths.values():
            await path.async_start(self._signaling.async_answer)
        self._started = True
        if self._mdns_wanted:
            host = self.bind_host
            self._mdns = MdnsDiscovery(
                identity=self.identity, node_id=self.node_id, port=self.address[1],
                addresses=lan_addresses() if host in ("0.0.0.0", "") else [host],
                interfaces=self._mdns_interfaces, request_timeout=self.timings.mdns_request_timeout,
                limits=self.limits)
            self._mdns.set_beacons(make_beacons(self._table.secrets, self.node_id))
            await self._mdns.async_start(self)
            if self._public_rooms:
                await self._mdns.async_set_public_rooms(self._public_rooms)
        for source in self._sources.values():
            await source.async_start(self)
        self._probe_udp()

    async def async_stop(self) -> None:
        """Say goodbye to every peer, withdraw announcements and close every path."""
        self._table.stopping = True
        self._started = False
        await self._dialer.async_stop()
        for task in list(self._tasks):
            task.cancel()
        if self._mdns is not None:
            await self._mdns.async_stop()
            self._mdns = None
        for source in self._sources.values():
            await source.async_stop()
        self._lan.close_listener()
        await asyncio.gather(*(s.async_close("node stopping") for s in self._table.all_sessions()))
        for path in self._paths.values():
            await path.async_stop()

    async def async_add_path(self, path: SignalingPath) -> None:
        """Use one more signaling path (started at once if the node runs)."""
        self._paths[path.name] = path
        if self._started:
            await path.async_start(self._signaling.async_answer)

    async def async_add_source(self, source: DiscoverySource) -> None:
        """Take hints from one more discovery source (started at once if the node runs)."""
        self._sources[source.name] = source
        if self._started:
            await source.async_start(self)

    async def async_remove_source(self, name: str) -> None:
        """Stop a discovery source; its hints are forgotten (live sessions stay)."""
        source = self._sources.pop(name, None)
        if source is not None:
            await source.async_stop()
        for hint in self._hints.hints(name):
            self.hint_lost(name, hint.node_id)

    async def async_remove_path(self, name: str) -> None:
        """Stop a signaling path and forget it: no new conversation through it (live sessions stay).

        The LAN path is the node's own and stays (`ValueError`)."""
        if name == LAN:
            raise ValueError("the LAN signaling path cannot be removed")
        path = self._paths.pop(name, None)
        if path is not None:
            await path.async_stop()

    def set_ice_servers(self, servers: Sequence[IceServer]) -> None:
        """The STUN/TURN servers for sessions made from now on (an explicit list, maybe empty).

        Each session gets one attempt of `p2p.ice_plan.IcePlan`: STUN + TURN over UDP, or TURN
        over TCP when that failed with the peer or UDP to the server is blocked (probed here).
        """
        same = [s.urls for s in servers] == [s.urls for s in self.ice.servers]
        had_turn = has_turn(self.ice.servers)
        self.ice.servers = list(servers)
        if not same:
            self.ice.udp_ok = None
            self._probe_udp()
        if not has_turn(servers):
            self._turn_ready.clear()
            return
        self._turn_ready.set()
        self._turn_expected_until = 0.0
        if not had_turn:
            self._retry_with_turn()

    def expect_turn(self, within: float = TURN_WAIT) -> None:
        """TURN credentials are on their way (a relay that offers TURN just connected and was asked).

        A session off the LAN about to be built in the next `within` seconds, while the node has
        no TURN server, waits for them (at most that long): built without, it would have only host
        candidates and fail behind a symmetric NAT. LAN sessions never wait.
        """
        if not self._turn_ready.is_set():
            self._turn_expected_until = max(self._turn_expected_until, time.monotonic() + within)

    def _retry_with_turn(self) -> None:
        """TURN servers just arrived: retry at once what failed, or is failing, for want of them.

        Our own dials off the LAN that are still setting up a session without TURN are given up
        (aiortc has no ICE restart: a new session is the way to use the new servers); every dial
        target without a session is woken, so those whose last session failed without TURN try
        again now instead of after their backoff. (A session the peer dialed waits for the peer's
        retry: we cannot tell it to start over.)
        """
        for session in list(self._pending):
            if (session.role is Role.DIALER and session.base_route != LAN and not has_turn(session.ice_servers)
                    and not session.authenticated.is_set()):
                session.close_soon("TURN servers arrived")
        self._dialer.wake_all()

    def _probe_udp(self) -> None:
        target = self.ice.probe_target()
        if target is None or not self._started or self.ice.udp_ok is not None:
            return
        plan = self.ice

        async def probe() -> None:
            ok = await async_probe_udp(target)
            if plan is self.ice and plan.probe_target() == target:
                plan.udp_ok = ok

        self._probe = spawn(self._tasks, probe())

    async def _async_ice_ready(self) -> None:
        """Before a session off the LAN: wait for TURN credentials on their way (`expect_turn`, at
        most `TURN_WAIT`), then (at most the probe's own 1 s) for the UDP probe's verdict.

        A session made while it is out would try TURN over UDP even where UDP is blocked, and
        lose a whole handshake timeout (and gathering stalls 5 s on the silent server) before the
        next one tries TCP. Still no answer after the wait: UDP counts as blocked until the probe
        (three requests in its own second) says otherwise.
        """
        wait = self._turn_expected_until - time.monotonic()
        if wait > 0 and not self._turn_ready.is_set():
            await wait_set(self._turn_ready, wait)
        probe = self._probe
        if probe is not None and not probe.done() and self.ice.udp_ok is None:
            await asyncio.wait([probe], timeout=PROBE_TIMEOUT)
            if not probe.done() and self.ice.udp_ok is None:
                self.ice.udp_ok = False

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of the LAN signaling endpoint."""
        return self._lan.address

    # -- app API -------------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` for every event (as well as queueing it); returns an unsubscribe."""
        listeners = self._table.listeners
        listeners.append(listener)
        return lambda: listeners.remove(listener) if listener in listeners else None

    def set_secrets(self, secrets: list[RoomSecret]) -> None:
        """Replace the room secrets, re-run room matching on every session, wake idle targets."""
        self._table.set_secrets(secrets)
        self._signaling.set_secrets(self._table.secrets)
        self._hints.set_secrets(self._table.secrets)
        if self._mdns is not None:
            self._mdns.set_beacons(make_beacons(self._table.secrets, self.node_id))
        self._dialer.wake_all()

    def set_public_rooms(self, rooms: list[PublicRoom]) -> None:
        """Announce exactly these rooms on mDNS (withdrawing the others)."""
        self._public_rooms = list(rooms)
        if self._mdns is not None:
            spawn(self._tasks, self._mdns.async_set_public_rooms(self._public_rooms))

    def public_rooms(self) -> list[PublicRoomSeen]:
        """Public rooms other nodes announce on the LAN (signed; the rest is their claim)."""
        return [] if self._mdns is None else self._mdns.public_rooms()

    def lan_peers(self) -> list[PeerHint]:
        """Nodes seen on mDNS (unauthenticated hints: node id, host, port, seen_at), one per node."""
        return self._hints.hints(MdnsDiscovery.name)

    async def async_connect(self, host: str, port: int) -> bytes:
        """Dial a signaling endpoint, authenticate, and return the peer's public key.

        The address is remembered: if the session drops, the node redials it with backoff, and
        accepts only the key that answered now.
        """
        address = Address(LAN, host, port)
        peer = await self._dial_address(address, None)
        self._dialer.add_explicit(address, peer)
        return peer

    def send(self, peer: bytes, channel: str, room_id: bytes | None, payload: bytes) -> None:
        """Send `payload` to `peer` on `channel`; `room_id` must be a room shared with that peer."""
        if channel not in APP_CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; use one of {APP_CHANNELS}")
        session = self._table.live(peer)
        if session is None:
            raise NotConnectedError("no authenticated session with that peer")
        if room_id is not None and room_id not in session.shared_room_ids():
            raise NotSharedError("that peer has not proven it holds that room")
        session.send(channel, room_id, payload)

    def buffered_amount(self, peer: bytes, channel: str) -> int:
        """Bytes queued but not yet sent to `peer` on `channel` (for back-pressure)."""
        session = self._table.sessions.get(peer)
        if session is None:
            raise NotConnectedError("no session with that peer")
        return session.buffered_amount(channel)

    def peers(self) -> list[bytes]:
        """Public keys of the peers with an authenticated session."""
        return self._table.peers()

    def shared_rooms(self, peer: bytes) -> set[bytes]:
        """Room ids `peer` proved it holds."""
        session = self._table.sessions.get(peer)
        return set() if session is None else session.shared_room_ids()

    def is_banned(self, peer: bytes) -> bool:
        return self._table.is_banned(peer)

    def session(self, peer: bytes) -> Session | None:
        """The live session with `peer` (its `route` says how it was made)."""
        return self._table.sessions.get(peer)

    async def async_wait_for_peer(self, peer: bytes, timeout: float) -> None:
        """Wait until an authenticated session with `peer` exists; TimeoutError otherwise."""
        await self._table.async_wait_for_peer(peer, timeout)

    def report_invalid(self, peer: bytes, reason: str) -> None:
        """The app found data from `peer` invalid (a forged or rejected entry): count it like a malformed frame."""
        self._table.report_invalid(peer, reason)

    @property
    def malformed_signaling(self) -> int:
        """Malformed or forged signaling attempts seen on the endpoint (not tied to a key)."""
        return self._signaling.malformed

    def stats(self) -> dict[str, Any]:
        """What the node holds now: sessions, admission counters, hints, targets, dials (probes, bench)."""
        out: dict[str, Any] = {"sessions": len(self._table.sessions), "pending": len(self._table.pending),
                               "hints": len(self._hints), "hints_evicted": self._hints.evicted,
                               "fd_limit": self.fd_limit, "heap_trims": self._table.heap_trims}
        out.update(self._admission.stats())
        out.update(self._dialer.stats())
        if self._mdns is not None:
            out.update(self._mdns.stats())
        return out

    def dial_times(self) -> list[float]:
        """When each budgeted dial began (time.monotonic()), the most recent few thousand."""
        return list(self._dialer.dial_times)

    # -- discovery (HintSink) --------------------------------------------------------------------------
    def hint_found(self, hint: Hint) -> None:
        if self._table.stopping:
            return
        new = hint.address not in self._hints.candidates(hint.source, hint.node_id)
        if self._hints.seen(hint):
            self._dialer.hint_seen(hint, new)

    def hint_lost(self, source: str, node_id: str, keep: Collection[Address] = ()) -> None:
        dropped = self._hints.lost(source, node_id, keep)
        self._dialer.hint_lost((source, node_id), dropped)

    # -- dialing -----------------------------------------------------------------------------------------
    async def _dial_address(self, address: Address, expect_key: bytes | None) -> bytes:
        path = self._paths.get(address.path)
        if path is None:
            raise SignalingError(f"no signaling path named {address.path!r}")
        conv = await path.async_open(address, self.timings.signal_timeout)
        return await self._signaling.async_dial(conv, expect_key)

    async def _async_dial(self, host: str, port: int) -> bytes:
        """One dial to a LAN endpoint, not remembered (tests)."""
        return await self._dial_address(Address(LAN, host, port), None)

    # -- sessions ----------------------------------------------------------------------------------------
    def _new_session(self, role: Role, peer: bytes) -> Session:
        """Make a session (subclasses in tests make hostile ones); it reports to this node."""
        attempt, servers = self.ice.for_peer(peer)
        session = Session(self.identity, role, peer, self._secrets, self, self.timings, ice_servers=servers)
        session.ice_attempt = attempt
        self._pending.add(session)
        return session

    @property
    def _secrets(self) -> list[RoomSecret]:
        return self._table.secrets

    @property
    def _pending(self) -> set[Session]:
        return self._table.pending

    # SessionOwner: every session reports to the table.
    def session_authenticated(self, session: Session) -> None:
        self.ice.succeeded(session.peer_key)
        self._table.session_authenticated(session)

    def session_control_event(self, session: Session, event: ControlEvent) -> None:
        self._table.session_control_event(session, event)

    def session_data(self, session: Session, channel: str, room_id: bytes | None, payload: bytes) -> None:
        self._table.session_data(session, channel, room_id, payload)

    def session_malformed(self, session: Session, reason: str) -> None:
        self._table.session_malformed(session, reason)

    def session_auth_failed(self, session: Session, reason: str) -> None:
        self._table.session_auth_failed(session, reason)

    def session_closed(self, session: Session, reason: str) -> None:
        if not session.authenticated.is_set() and reason in ICE_FAILURES:
            if session.ice_servers:
                self.ice.failed(session.peer_key)  # the next session with this peer tries the next attempt
            if session.base_route != LAN and not has_turn(session.ice_servers) and self._turn_ready.is_set():
                self._dialer.wake_all()  # built without TURN, which came while it was failing: try with it now
        self._table.session_closed(session, reason)
