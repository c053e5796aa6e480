"""The relay: a small self-hosted server for rendezvous, sealed signaling, TURN credentials and a blind mailbox.

Server side (`hubbub relay serve`, p2p.relay.serve): `server` (the aiohttp WebSocket endpoint),
`rendezvous` (tokens and handles), `mailbox_store` (SQLite, fsync'd), `limits` (quotas and rates),
`turn` (TURN REST credentials for a coturn beside it), all speaking `wire` (sans-IO frames).
Node side: `client.RelayClient` (one connection to one relay) and `route.RelayRoute` (a discovery
source and a signaling path for `p2p.PeerNode`); `envelope` seals and pads what the relay carries.

The server imports only this package, the stdlib, pynacl and aiohttp (never aiortc, Qt, audio,
crdt or app); docs/relay.md has the protocol, the limits and how to run it.
"""
