"""RelayRoute: a relay as a discovery source (peers under shared tokens) and a signaling path (sealed conversations)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict

from p2p.errors import SignalingError
from p2p.relay.client import RelayClient
from p2p.relay.conversation import CLOSE, DIALER, HEADER, LISTENER, OPEN, RelayConversation
from p2p.relay.envelope import open_
from p2p.relay.errors import RelayError
from p2p.relay.wire import HANDLE_SIZE, TOKEN_SIZE
from p2p.routes import Address, Hint, HintSink, Inbound

log = logging.getLogger(__name__)

MAX_CONVERSATIONS = 64
"""Conversations open at once through one relay (inbound and outbound)."""
SEEN_OPENS = 4096
"""Conversation ids remembered, so a replayed OPEN starts nothing."""

ConvKey = tuple[bytes, bytes, bytes]


class RelayRoute:
    """The `DiscoverySource` and `SignalingPath` of one `RelayClient`.

    Add it both ways: `await node.async_add_path(route)` and `await node.async_add_source(route)`.
    A peer subscribed under one of our tokens becomes a `Hint` (source and path `relay:<url>`,
    `Address(path, host=<url>#<handle prefix>, port=0, via=token || handle)`); the side with the
    smaller handle dials. A conversation's frames are sealed under the token's seal key and padded
    (p2p.relay.conversation), so the relay sees neither keys nor SDP; its `route` is "direct" and
    its `source` `relay:<url>:<handle hex>`.
    """

    def __init__(self, client: RelayClient) -> None:
        self.client = client
        self.name = f"relay:{client.url}"
        self.malformed = 0
        """Relayed payloads that did not open, or broke a conversation's order."""
        self._sink: HintSink | None = None
        self._inbound: Inbound | None = None
        self._peers: dict[bytes, tuple[bytes, set[bytes]]] = {}
        self._convs: dict[ConvKey, RelayConversation] = {}
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unlisten = client.add_listener(self)

    async def async_start(self, target: HintSink | Inbound) -> None:
        """As a discovery source (`target` is the node's hint sink) report peers; as a signaling path
        (`target` is the node's inbound handler) accept conversations."""
        if hasattr(target, "hint_found"):
            self._sink = target  # type: ignore[assignment]
            for token, (mine, others) in self._peers.items():
                for handle in others:
                    self._found(token, mine, handle)
        else:
            self._inbound = target  # type: ignore[assignment]

    async def async_stop(self) -> None:
        """Withdraw every hint and close every conversation; never raises."""
        self._withdraw(set(self._peers))
        self._sink = None
        self._inbound = None
        for conv in list(self._convs.values()):
            conv.fail("the relay route stopped")
        for task in list(self._tasks):
            task.cancel()

    async def async_open(self, address: Address, timeout: float) -> RelayConversation:
        """Open a sealed conversation with the peer at `address` (`SignalingError` if it cannot)."""
        token, handle = address.via[:TOKEN_SIZE], address.via[TOKEN_SIZE:]
        key = self.client.seal_key(token)
        if len(address.via) != TOKEN_SIZE + HANDLE_SIZE or key is None:
            raise SignalingError("that relay address is not under one of our tokens")
        if not self.client.connected:
            raise SignalingError(f"the relay {self.client.url} is not connected")
        if handle not in self._peers.get(token, (b"", set()))[1]:
            raise SignalingError("that peer is no longer at the relay")
        if len(self._convs) >= MAX_CONVERSATIONS:
            raise SignalingError("too many conversations through the relay at once")
        conv = self._new(token, handle, os.urandom(8), DIALER, key)
        conv.open()
        return conv

    # -- RelayListener -------------------------------------------------------------------------
    def relay_peers(self, token: bytes, mine: bytes, others: tuple[bytes, ...]) -> None:
        old = self._peers.get(token, (b"", set()))[1]
        now = set(others) - {mine}
        self._peers[token] = (mine, now)
        for handle in old - now:
            self._lost(token, handle)
        for handle in now - old:
            self._found(token, mine, handle)

    def relay_deliver(self, token: bytes, sender: bytes, payload: bytes) -> None:
        key = self.client.seal_key(token)
        if key is None:
            return
        try:
            plain = open_(key, payload)
            if len(plain) < HEADER.size:
                raise RelayError("a relayed message is too short")
        except RelayError as exc:
            self.malformed += 1
            log.debug("%s: a relayed payload did not open: %s", self.name, exc)
            return
        conv_id, direction, op, number = HEADER.unpack_from(plain)
        body = plain[HEADER.size:]
        conv = self._convs.get((token, sender, conv_id))
        if conv is not None:
            conv.received(direction, op, number, body)
            if conv.closed and op != CLOSE:
                self.malformed += 1
            return
        if op != OPEN or direction != DIALER or number != 0 or body or conv_id in self._seen:
            if op != CLOSE:
                self.malformed += 1
            return
        self._remember(conv_id)
        if self._inbound is None or len(self._convs) >= MAX_CONVERSATIONS:
            return
        conv = self._new(token, sender, conv_id, LISTENER, key)
        conv.accepted_open()
        task = asyncio.ensure_future(self._inbound(conv))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def relay_tokens(self, tokens: set[bytes]) -> None:
        self._withdraw({token for token in self._peers if token not in tokens})

    def relay_down(self) -> None:
        self._withdraw(set(self._peers))
        for conv in list(self._convs.values()):
            conv.fail("the relay connection was lost")

    # -- internals ---------------------------------------------------------------------------------
    def _new(self, token: bytes, handle: bytes, conv_id: bytes, direction: int, key: bytes) -> RelayConversation:
        conv = RelayConversation(self.name, token, handle, conv_id, direction, key, self.client.forward,
                                 self._forget)
        self._convs[(token, handle, conv_id)] = conv
        if direction == DIALER:
            self._remember(conv_id)
        return conv

    def _forget(self, conv: RelayConversation) -> None:
        self._convs.pop((conv.token, conv.handle, conv.conv_id), None)

    def _remember(self, conv_id: bytes) -> None:
        self._seen[conv_id] = None
        while len(self._seen) > SEEN_OPENS:
            self._seen.popitem(last=False)

    def _address(self, token: bytes, handle: bytes) -> Address:
        return Address(self.name, f"{self.client.url}#{handle[:4].hex()}", 0, token + handle)

    def _found(self, token: bytes, mine: bytes, handle: bytes) -> None:
        if self._sink is not None:
            self._sink.hint_found(Hint(self.name, (token + handle).hex(), self._address(token, handle),
                                       passive=mine > handle))

    def _lost(self, token: bytes, handle: bytes) -> None:
        if self._sink is not None:
            self._sink.hint_lost(self.name, (token + handle).hex())

    def _withdraw(self, tokens: set[bytes]) -> None:
        for token in tokens:
            _, others = self._peers.pop(token, (b"", set()))
            for handle in others:
                self._lost(token, handle)
