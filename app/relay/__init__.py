"""The node's side of relays: key derivations, relays as room and profile settings, the mailbox route, the part.

* `keys`: rendezvous tokens, seal keys, mailbox auth and wrap keys, all derived from a room key
  (or an invite secret), so the relay sees only values that look random and rotate;
* `settings`: which relays a room uses (room state, set by an admin) and a profile adds;
* `cursors`: the durable bookkeeping of what each relay acknowledged and what we pulled;
* `mailbox`: entries pushed into and pulled out of a relay's blind mailbox (`RoomMailbox`);
* `part`: `Relays`, the NodeService part that runs one client per relay (docs/relay.md, "Nodes").
"""
