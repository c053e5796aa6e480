"""LAN discovery over mDNS (python-zeroconf, asyncio API): node endpoints and public rooms.

Two service types:

* `_hubbub._tcp.local.`: one per running node. TXT carries only what is needed to connect:
  `v` (protocol version) and `id` (a random node id, new at every start, not the identity key).
  The host and port are the node's signaling endpoint.
* `_hubbub-room._tcp.local.`: one per room the app marked public. TXT: `v`, `rid` (room id hex),
  `name`, `tags` (comma separated), `members`, `node`. Private rooms are never announced.

mDNS is a hint: it never grants trust. Everything read from the network is parsed defensively.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ifaddr
from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf._utils.net import InterfacesType
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from p2p.rooms import PublicRoom, PublicRoomSeen

log = logging.getLogger(__name__)

PEER_SERVICE = "_hubbub._tcp.local."
ROOM_SERVICE = "_hubbub-room._tcp.local."
PROTOCOL_VERSION = 1
MAX_NAME = 64
MAX_TAGS = 200


@dataclass(frozen=True)
class PeerHint:
    """A node seen on the LAN: where its signaling endpoint claims to be."""

    node_id: str
    host: str
    port: int
    seen_at: float = field(default_factory=time.monotonic, compare=False)
    """When it was resolved (time.monotonic())."""


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


def parse_peer_txt(props: dict[bytes, bytes | None]) -> str | None:
    """The node id a `_hubbub._tcp` TXT record announces, or None if it is not a record of ours."""
    if _text(props, b"v", 8) != str(PROTOCOL_VERSION):
        return None
    node_id = _text(props, b"id", 64)
    return node_id if _node_id_ok(node_id) else None


def parse_room_txt(props: dict[bytes, bytes | None]) -> tuple[PublicRoom, str] | None:
    """(the public room, the announcing node's id) of a `_hubbub-room._tcp` TXT record, or None if it is malformed."""
    if _text(props, b"v", 8) != str(PROTOCOL_VERSION):
        return None
    node_id = _text(props, b"node", 64)
    if not _node_id_ok(node_id):
        return None
    rid, members = _text(props, b"rid", 128), _text(props, b"members", 8) or "0"
    if not (rid.isascii() and members.isascii() and members.isdigit()):
        return None
    try:
        room_id = bytes.fromhex(rid)
    except ValueError:
        return None
    if not room_id:
        return None
    tags = tuple(t for t in _text(props, b"tags", MAX_TAGS).split(",") if t)
    return PublicRoom(room_id, _text(props, b"name", MAX_NAME), tags, int(members)), node_id


def room_txt(room: PublicRoom, node_id: str) -> dict[str, str]:
    """The TXT properties that announce `room` from the node `node_id`."""
    name = room.name.encode("utf-8")[:MAX_NAME].decode("utf-8", errors="ignore")
    tags = ",".join(t.replace(",", " ") for t in room.tags).encode("utf-8")[:MAX_TAGS]
    return {
        "v": str(PROTOCOL_VERSION),
        "rid": room.room_id.hex(),
        "name": name,
        "tags": tags.decode("utf-8", errors="ignore"),
        "members": str(max(0, room.member_count)),
        "node": node_id,
    }


class Discovery:
    """Announces this node (and its public rooms) and browses for others."""

    def __init__(
        self,
        *,
        node_id: str,
        port: int,
        addresses: list[str],
        on_found: Callable[[PeerHint], None],
        on_lost: Callable[[str], None],
        interfaces: InterfacesType = InterfaceChoice.All,
        request_timeout: float = 3.0,
    ) -> None:
        self.node_id = node_id
        self.port = port
        self.addresses = addresses
        self.on_found = on_found
        self.on_lost = on_lost
        self.interfaces = interfaces
        self.request_timeout = request_timeout
        self._azc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._peer_info: AsyncServiceInfo | None = None
        self._room_infos: dict[bytes, tuple[PublicRoom, AsyncServiceInfo]] = {}
        self._rooms_seen: dict[str, PublicRoomSeen] = {}
        self._peers_seen: dict[str, PeerHint] = {}  # by service name
        self._tasks: set[asyncio.Task[None]] = set()
        self._rooms_lock = asyncio.Lock()

    async def async_start(self) -> None:
        """Start zeroconf, announce this node, and browse for nodes and public rooms."""
        self._azc = AsyncZeroconf(interfaces=self.interfaces, ip_version=IPVersion.V4Only)
        self._browser = AsyncServiceBrowser(
            self._azc.zeroconf, [PEER_SERVICE, ROOM_SERVICE], handlers=[self._on_change]
        )
        self._peer_info = AsyncServiceInfo(
            PEER_SERVICE,
            f"{self.node_id}.{PEER_SERVICE}",
            parsed_addresses=self.addresses,
            port=self.port,
            properties={"v": str(PROTOCOL_VERSION), "id": self.node_id},
            server=f"hubbub-{self.node_id}.local.",
        )
        await await_registration(self._azc, self._peer_info)

    async def async_stop(self) -> None:
        """Withdraw every announcement and stop zeroconf."""
        for task in list(self._tasks):
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
                info = self._room_info(room)
                if current is None:
                    await await_registration(azc, info)
                else:
                    await (await azc.async_update_service(info))
                self._room_infos[room_id] = (room, info)

    def peers(self) -> list[PeerHint]:
        """Nodes currently announced on the LAN (hints, not verified)."""
        return list(self._peers_seen.values())

    def public_rooms(self) -> list[PublicRoomSeen]:
        """Public rooms currently announced by other nodes, sorted by name."""
        return sorted(self._rooms_seen.values(), key=lambda r: (r.name, r.room_id, r.node_id))

    def _room_info(self, room: PublicRoom) -> AsyncServiceInfo:
        instance = f"{room.room_id.hex()[:32]}-{self.node_id}"
        return AsyncServiceInfo(
            ROOM_SERVICE,
            f"{instance}.{ROOM_SERVICE}",
            parsed_addresses=self.addresses,
            port=self.port,
            properties=dict(room_txt(room, self.node_id)),
            server=f"hubbub-{self.node_id}.local.",
        )

    # -- browsing --------------------------------------------------------------------------------
    def _on_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            self._on_removed(service_type, name)
            return
        task = asyncio.ensure_future(self._async_resolve(service_type, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_removed(self, service_type: str, name: str) -> None:
        if service_type == ROOM_SERVICE:
            self._rooms_seen.pop(name, None)
        else:
            hint = self._peers_seen.pop(name, None)
            if hint is not None:
                self.on_lost(hint.node_id)

    async def _async_resolve(self, service_type: str, name: str) -> None:
        azc = self._azc
        if azc is None:
            return
        try:
            info = AsyncServiceInfo(service_type, name)
            if not await info.async_request(azc.zeroconf, int(self.request_timeout * 1000)):
                return
            hosts = info.parsed_addresses(IPVersion.V4Only)
            if not hosts or not info.port:
                return
            props = info.properties
            if service_type == PEER_SERVICE:
                node_id = parse_peer_txt(props)
                if node_id is not None:
                    self._on_peer(name, hosts[0], info.port, node_id)
            else:
                announced = parse_room_txt(props)
                if announced is not None:
                    self._on_room(name, hosts[0], info.port, announced)
        except asyncio.CancelledError:
            raise
        except Exception:  # hostile or broken announcements are ignored
            log.debug("ignoring unresolvable mDNS service %r", name, exc_info=True)

    def _on_peer(self, name: str, host: str, port: int, node_id: str) -> None:
        if node_id == self.node_id:
            return
        hint = PeerHint(node_id, host, port)
        self._peers_seen[name] = hint
        self.on_found(hint)

    def _on_room(self, name: str, host: str, port: int, announced: tuple[PublicRoom, str]) -> None:
        room, node_id = announced
        if node_id == self.node_id:
            return
        self._rooms_seen[name] = PublicRoomSeen(
            room_id=room.room_id,
            name=room.name,
            tags=room.tags,
            member_count=room.member_count,
            host=host,
            port=port,
            node_id=node_id,
        )


async def await_registration(azc: AsyncZeroconf, info: AsyncServiceInfo) -> None:
    """Register `info` and wait until its announcements went out."""
    await (await azc.async_register_service(info, allow_name_change=True))
