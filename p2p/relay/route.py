"""RelayRoute: a relay as a discovery source (peers under shared tokens) and a signaling path (sealed conversations)."""

from __future__ import annotations

from p2p.relay.client import RelayClient
from p2p.routes import Address, Conversation, HintSink, Inbound


class RelayRoute:
    """The `DiscoverySource` and `SignalingPath` of one `RelayClient`.

    Add it both ways: `await node.async_add_path(route)` and `await node.async_add_source(route)`.
    A peer subscribed under one of our tokens becomes a `Hint` (source and path `relay:<url>`,
    `Address(path, host=<url>, port=0, via=token || handle)`); the side with the smaller handle
    dials. A conversation's frames are sealed under the token's seal key and padded, so the relay
    sees neither keys nor SDP; its `route` is "direct" and its `source` `relay:<url>:<handle hex>`.
    """

    def __init__(self, client: RelayClient) -> None:
        self.client = client
        self.name = f"relay:{client.url}"

    async def async_start(self, target: HintSink | Inbound) -> None:
        """As a discovery source (`target` is the node's hint sink) report peers; as a signaling path
        (`target` is the node's inbound handler) accept conversations."""
        raise NotImplementedError

    async def async_stop(self) -> None:
        """Withdraw every hint and close every conversation; never raises."""
        raise NotImplementedError

    async def async_open(self, address: Address, timeout: float) -> Conversation:
        """Open a sealed conversation with the peer at `address` (`SignalingError` if it cannot)."""
        raise NotImplementedError
