"""Forged mDNS answers for the hostile-LAN scenarios: services announced (or withdrawn) in anyone's name.

An attacker on a LAN needs no registry and no probing: it multicasts DNS responses. These are
built with python-zeroconf's own record and packet classes and sent through a `Zeroconf`
instance's sockets, as the answers of a real responder would be.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

from zeroconf import Zeroconf, const
from zeroconf._dns import DNSAddress, DNSPointer, DNSRecord, DNSService, DNSText
from zeroconf._protocol.outgoing import DNSOutgoing

PEER_SERVICE = "_hubbub._tcp.local."
ROOM_SERVICE = "_hubbub-room._tcp.local."
PER_PACKET = 24
"""Services per packet (PTR, SRV, TXT and A each): well under mDNS's 9 kB."""


@dataclass(frozen=True)
class FakeService:
    """One announcement: a node id (or `instance`) said to be at `ip:port`, `_hubbub._tcp` by default."""

    node_id: str
    ip: str
    port: int
    txt: dict[str, str]
    server: str = ""
    service_type: str = PEER_SERVICE
    instance: str = ""

    @property
    def name(self) -> str:
        return f"{self.instance or self.node_id}.{self.service_type}"


def _txt(props: dict[str, str]) -> bytes:
    out = b""
    for key, value in props.items():
        item = f"{key}={value}".encode()[:255]
        out += bytes((len(item),)) + item
    return out


def _records(service: FakeService, ttl: int) -> list[DNSRecord]:
    unique = const._CLASS_IN | const._CLASS_UNIQUE
    server = service.server or f"h{service.node_id}.local."
    return [
        DNSPointer(service.service_type, const._TYPE_PTR, const._CLASS_IN, ttl, service.name),
        DNSService(service.name, const._TYPE_SRV, unique, ttl, 0, 0, service.port, server),
        DNSText(service.name, const._TYPE_TXT, unique, ttl, _txt(service.txt)),
        DNSAddress(server, const._TYPE_A, unique, ttl, socket.inet_aton(service.ip)),
    ]


def announce(zc: Zeroconf, services: Iterable[FakeService], ttl: int = 120) -> int:
    """Multicast answers for `services` (TTL 0 withdraws them: a goodbye); returns packets sent."""
    batch: list[FakeService] = []
    sent = 0
    for service in list(services) + [None]:  # type: ignore[list-item]
        if service is not None:
            batch.append(service)
        if batch and (service is None or len(batch) >= PER_PACKET):
            out = DNSOutgoing(const._FLAGS_QR_RESPONSE | const._FLAGS_AA)
            for item in batch:
                for record in _records(item, ttl):
                    out.add_answer_at_time(record, 0)
            zc.async_send(out)
            sent += 1
            batch = []
    return sent
