"""LAN discovery over mDNS (python-zeroconf, asyncio API): a `DiscoverySource`, and public rooms.

Two service types:

* `_hubbub._tcp.local.`: one per running node. TXT: `v` (protocol version, 2), `id` (a random
  node id, new at every start, not the identity key) and `b` (room beacons, base64; see
  p2p.room_tokens.make_beacons). Host and port are the node's signaling endpoint.
* `_hubbub-room._tcp.local.`: one per room the app marked public, signed (p2p.public_rooms).
  Private rooms are never announced.

mDNS is a hint: it never grants trust. Everything read from the network is parsed defensively,
and everything it feeds is bounded (`Limits`): look-ups run at most `max_resolves` at once from a
queue of `resolve_queue` (oldest dropped); the names tracked and the public rooms kept are capped
and evicted least recently seen first. A goodbye does not remove a peer outright: the name is
looked up again, and only the addresses that no longer answer are reported lost. zeroconf's own
record cache is bounded by zeroconf (10,000 records, a compiled constant we cannot lower).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections import OrderedDict, deque

import ifaddr
import nacl.signing
from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf._utils.net import InterfacesType
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from p2p.config import Limits
from p2p.lan_path import LAN
from p2p.public_rooms import parse_room, room_properties
from p2p.rooms import PublicRoom, PublicRoomSeen
from p2p.routes import Address, Hint, HintSink

log = logging.getLogger(__name__)

PEER_SERVICE = "_hubbub._tcp.local."
ROOM_SERVICE = "_hubbub-room._tcp.local."
PROTOCOL_VERSION = 2
GOODBYE_SETTLE = 1.2
"""Seconds to wait after a goodbye before looking the name up again (goodbye records live 1 s)."""
MAX_ADDRESSES = 4
PeerHint = Hint
"""What `PeerNode.lan_peers()` returns (node_id, host, port, seen_at)."""


def lan_addresses() -> list[str]:
    """This host's IPv4 addresses, loopback last (only used when nothing else exists)."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and ip.ip not in found:
                found.append(ip.ip)
    outside = [a for a in found if not a.startswith("127.")]
    return outside or ["127.0.0.1"]


def _text(props: dict[bytes, bytes | None], key: bytes, cap: int) -> str:
    value = props.get(key)
    if not isinstance(value, bytes):
        return ""
    return value[:cap].decode("utf-8", errors="replace")


def _node_id_ok(node_id: str) -> bool:
    return 0 < len(node_id) <= 32 and all(c in "0123456789abcdef" for c in node_id)


class MdnsDiscovery:
    """Announces this node (and its public rooms) and browses for others, within bounds."""

    name = "mdns"

    def __init__(self, *, identity: nacl.signing.SigningKey, node_id: str, port: int,
                 addresses: list[str], interfaces: InterfacesType = InterfaceChoice.All,
                 request_timeout: float = 3.0, limits: Limits | None = None) -> None:
        self.identity = identity
        self.node_id = node_id
        self.port = port
        self.addresses = addresses
        self.interfaces = interfaces
        self.request_timeout = request_timeout
        self.limits = limits or Limits()
        self._sink: HintSink | None = None
        self._azc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._beacons = b""
        self._announce_task: asyncio.Task[None] | None = None
        self._announce_again = False
        self._room_infos: dict[bytes, tuple[PublicRoom, AsyncServiceInfo]] = {}
        self._rooms_seen: OrderedDict[str, tuple[bytes, str, PublicRoomSeen | None]] = OrderedDict()
        self._names: OrderedDict[str, str] = OrderedDict()  # peer service name -> node id
        self._queue: deque[tuple[str, str, bool]] = deque()
        self._queued: set[tuple[str, str]] = set()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._rooms_lock = asyncio.Lock()
        self.dropped_lookups = 0

    # -- lifecycle ----------------------------------------------------------------------------------
    async def async_start(self, sink: HintSink) -> None:
        """Start zeroconf, announce this node, and browse for nodes and public rooms."""
        self._sink = sink
        self._azc = AsyncZeroconf(interfaces=self.interfaces, ip_version=IPVersion.V4Only)
        self._browser = AsyncServiceBrowser(
            self._azc.zeroconf, [PEER_SERVICE, ROOM_SERVICE], handlers=[self._on_change])
        await await_registration(self._azc, self._peer_info())

    async def async_stop(self) -> None:
        """Withdraw every announcement and stop zeroconf."""
        for task in list(self._tasks) + ([self._announce_task] if self._announce_task else []):
            task.cancel()
        if self._azc is None:
            return
        azc, self._azc = self._azc, None
        try:
            if self._browser is not None:
                await self._browser.async_cancel()
            await azc.async_unregister_all_services()
        except Exception:
            log.debug("error withdrawing mDNS services", exc_info=True)
        await azc.async_close()

    def _peer_info(self) -> AsyncServiceInfo:
        props = {"v": str(PROTOCOL_VERSION), "id": self.node_id}
        if self._beacons:
            props["b"] = base64.b64encode(self._beacons).decode()
        return AsyncServiceInfo(PEER_SERVICE, f"{self.node_id}.{PEER_SERVICE}",
                                parsed_addresses=self.addresses, port=self.port, properties=props,
                                server=f"hubbub-{self.node_id}.local.")

    def set_beacons(self, beacons: bytes) -> None:
        """Announce these room beacons from now on (re-announced at most once a second)."""
        if beacons == self._beacons:
            return
        self._beacons = beacons
        if self._azc is None:
            return
        if self._announce_task is not None and not self._announce_task.done():
            self._announce_again = True
            return
        self._announce_task = asyncio.ensure_future(self._async_reannounce())

    async def _async_reannounce(self) -> None:
        while self._azc is not None:
            self._announce_again = False
            try:
                await (await self._azc.async_update_service(self._peer_info()))
            except Exception:
                log.debug("could not update the mDNS announcement", exc_info=True)
            await asyncio.sleep(1.0)
            if not self._announce_again:
                return

    async def async_set_public_rooms(self, rooms: list[PublicRoom]) -> None:
        """Announce exactly `rooms` as public rooms: register new ones, update or withdraw others."""
        async with self._rooms_lock:
            azc = self._azc
            if azc is None:
                return
            wanted = {room.room_id: room for room in rooms}
            for room_id in list(self._room_infos):
                if room_id not in wanted:
                    _, info = self._room_infos.pop(room_id)
                    await (await azc.async_unregister_service(info))
            for room_id, room in wanted.items():
                current = self._room_infos.get(room_id)
                if current is not None and current[0] == room:
                    continue
                info = AsyncServiceInfo(
                    ROOM_SERVICE, f"{room.room_id.hex()[:32]}-{self.node_id}.{ROOM_SERVICE}",
                    parsed_addresses=self.addresses, port=self.port,
                    properties=room_properties(self.identity, room, self.node_id),
                    server=f"hubbub-{self.node_id}.local.")
                if current is None:
                    await await_registration(azc, info)
                else:
                    await (await azc.async_update_service(info))
                self._room_infos[room_id] = (room, info)

    # -- what was seen --------------------------------------------------------------------------------
    def public_rooms(self) -> list[PublicRoomSeen]:
        """Public rooms other nodes announce (signatures verified), sorted by name."""
        rooms = [seen for _, _, seen in self._rooms_seen.values() if seen is not None]
        return sorted(rooms, key=lambda r: (r.name, r.room_id, r.node_id))

    def stats(self) -> dict[str, int]:
        zc = self._azc.zeroconf if self._azc is not None else None
        cache = sum(len(v) for v in zc.cache.cache.values()) if zc is not None else 0
        return {"mdns_names": len(self._names), "mdns_rooms": len(self._rooms_seen),
                "mdns_lookups": self._running, "mdns_lookups_queued": len(self._queue),
                "mdns_lookups_dropped": self.dropped_lookups, "zeroconf_cache_records": cache}

    # -- browsing ----------------------------------------------------------------------------------------
    def _on_change(self, zeroconf: Zeroconf, service_type: str, name: str,
                   state_change: ServiceStateChange) -> None:
        if self._azc is None:
            return
        if state_change is ServiceStateChange.Removed:
            if name in self._names or name in self._rooms_seen:
                loop = asyncio.get_running_loop()
                loop.call_later(GOODBYE_SETTLE, self._look_up, service_type, name, True)
            return
        self._look_up(service_type, name, False)

    def _look_up(self, service_type: str, name: str, verify: bool) -> None:
        """Resolve `name` from the cache at once, or queue a network look-up (bounded)."""
        azc = self._azc
        if azc is None:
            return
        if not verify:
            info = AsyncServiceInfo(service_type, name)
            if info.load_from_cache(azc.zeroconf):
                self._on_info(service_type, name, info, verify)
                return
        key = (service_type, name)
        if key in self._queued:
            return
        if len(self._queue) >= self.limits.resolve_queue:
            old = self._queue.popleft()
            self._queued.discard(old[:2])
            self.dropped_lookups += 1
        self._queue.append((service_type, name, verify))
        self._queued.add(key)
        self._pump()

    def _pump(self) -> None:
        while self._running < self.limits.max_resolves and self._queue:
            service_type, name, verify = self._queue.popleft()
            self._queued.discard((service_type, name))
            self._running += 1
            task = asyncio.ensure_future(self._async_resolve(service_type, name, verify))
            self._tasks.add(task)
            task.add_done_callback(self._resolved)

    def _resolved(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._running -= 1
        if self._azc is not None:
            self._pump()

    async def _async_resolve(self, service_type: str, name: str, verify: bool) -> None:
        azc = self._azc
        if azc is None:
            return
        try:
            info = AsyncServiceInfo(service_type, name)
            found = await info.async_request(azc.zeroconf, int(self.request_timeout * 1000))
            if found:
                self._on_info(service_type, name, info, verify)
            elif verify:
                self._gone(service_type, name)
        except asyncio.CancelledError:
            raise
        except Exception:  # hostile or broken announcements are ignored
            log.debug("ignoring unresolvable mDNS service %r", name, exc_info=True)

    def _on_info(self, service_type: str, name: str, info: AsyncServiceInfo, verify: bool) -> None:
        hosts = info.parsed_addresses(IPVersion.V4Only)[:MAX_ADDRESSES]
        if not hosts or not info.port:
            if verify:
                self._gone(service_type, name)
            return
        if service_type == ROOM_SERVICE:
            self._on_room(name, hosts[0], info.port, info.properties, info.text or b"")
            return
        props = info.properties
        node_id = _text(props, b"id", 64)
        if (_text(props, b"v", 8) != str(PROTOCOL_VERSION) or not _node_id_ok(node_id)
                or node_id == self.node_id or name != f"{node_id}.{PEER_SERVICE}"):
            return
        try:
            beacons = base64.b64decode(props.get(b"b") or b"", validate=True)
        except (binascii.Error, ValueError, TypeError):
            beacons = b""
        self._names[name] = node_id
        self._names.move_to_end(name)
        while len(self._names) > self.limits.max_hints:
            self._names.popitem(last=False)
        assert self._sink is not None
        addresses = [Address(LAN, host, info.port) for host in hosts]
        for address in addresses:
            self._sink.hint_found(Hint(self.name, node_id, address, passive=self.node_id > node_id,
                                       beacons=beacons))
        if verify:
            self._sink.hint_lost(self.name, node_id, keep=addresses)

    def _gone(self, service_type: str, name: str) -> None:
        if service_type == ROOM_SERVICE:
            self._rooms_seen.pop(name, None)
            return
        node_id = self._names.pop(name, None)
        if node_id is not None and self._sink is not None:
            self._sink.hint_lost(self.name, node_id)

    def _on_room(self, name: str, host: str, port: int, props: dict[bytes, bytes | None], raw: bytes) -> None:
        known = self._rooms_seen.get(name)
        same = known is not None and known[0] == raw and known[1] == host
        seen = known[2] if known is not None and same else parse_room(props, host, port)
        if seen is not None and seen.node_id == self.node_id:
            return
        self._rooms_seen[name] = (raw, host, seen)  # a bad signature is kept too, so it is checked once
        self._rooms_seen.move_to_end(name)
        same_host = [n for n, (_, h, _) in self._rooms_seen.items() if h == host]
        for extra in same_host[: max(0, len(same_host) - self.limits.max_hints_per_host)]:
            del self._rooms_seen[extra]
        while len(self._rooms_seen) > self.limits.max_public_rooms:
            self._rooms_seen.popitem(last=False)


Discovery = MdnsDiscovery
"""The former name."""


async def await_registration(azc: AsyncZeroconf, info: AsyncServiceInfo) -> None:
    """Register `info` and wait until its announcements went out."""
    await (await azc.async_register_service(info, allow_name_change=True))
