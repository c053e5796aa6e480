"""Invites and joins: what we prove for them, admitting a joiner, checking its grant, and refusing at once.

A joiner proves `join:<invite id>` with the invite's secret (from the link) and `probe` for the room
(`probe_secret`: derived from the room id, so members online can be found). A member proves, per
room, `invite:<id>` for each invite that can still admit, `spent:<id>` for each used or expired one,
and `probe`. On the session:

* invite matched: the member adds the joiner (`add` naming the invite) and sends a grant (the keys
  and the signed genesis); the joiner keeps the first grant whose keys open the genesis (a bogus one
  counts against its sender), and is done once it holds its own `add`;
* a spent invite matched: the member refuses at once ("used", "expired");
* only the probe matched: the joiner asks about its invite (`JoinRequest`); a member that does not
  know it says "unknown"; when every member found says so, the join ends with that sentence.

Only "nobody online" waits, with progress (`ServiceListeners.join_progress`). A join that fails
leaves nothing behind, so a retry starts clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from p2p.errors import P2PError
from p2p.events import RoomMatched
from p2p.node import PeerNode
from p2p.rooms import RoomSecret

from .errors import BadInvite, HubbubError
from .grants import check_grant, make_grant, open_grant_keys
from .invite import Invite, parse_invite
from .node import Node
from .room import Room, now_ms
from .room_sync import RoomSync
from .service_types import ServiceListeners, call_all
from .wire import Grant, JoinRefusal, JoinRequest, probe_secret, public_secret

log = logging.getLogger(__name__)

UNKNOWN_GRACE = 2.0  # seconds after the first member said "unknown" before giving up on the others
SENTENCES = {"used": "That invite was already used; ask for a new one.",
             "expired": "That invite has expired; ask for a new one."}


@dataclass
class Join:
    invite: Invite | None
    room_id: bytes
    secret: bytes
    label: str
    name: str
    done: asyncio.Future[bytes]
    granted: bool = False
    members_found: set[bytes] = field(default_factory=set)
    unknown_to: set[bytes] = field(default_factory=set)
    first_unknown: float | None = None


class Joins:
    """Our joins in progress, and our answers to other people's."""

    def __init__(self, node: Node, peer: PeerNode, sync: RoomSync, listeners: ServiceListeners, *,
                 room_added: Callable[[Room], None], refresh_secrets: Callable[[], None]) -> None:
        self.node = node
        self.peer = peer
        self.sync = sync
        self.listeners = listeners
        self._room_added = room_added
        self._refresh = refresh_secrets
        self.joins: dict[str, Join] = {}

    # ----- what we prove ------------------------------------------------------------------------

    def room_secrets(self, room: Room) -> list[RoomSecret]:
        """A member's secrets for one room's invites (and the probe joiners look for)."""
        state = room.log.state()
        if state.role_of(room.me) is None:
            return []
        now = now_ms()
        out = [RoomSecret(room.id, probe_secret(room.id), "probe", open=True)]
        for iid, inv in state.invites.items():
            usable = not inv.exhausted and (inv.expires_ms is None or inv.expires_ms > now)
            out.append(RoomSecret(room.id, inv.key, f"invite:{iid}" if usable else f"spent:{iid}"))
        if state.public:  # anyone can derive it: the strangers' lane in signaling, not the members'
            out.append(RoomSecret(room.id, public_secret(room.id), "public", open=True))
        return out

    def join_secrets(self) -> list[RoomSecret]:
        out = []
        for join in self.joins.values():
            if not join.granted:
                out.append(RoomSecret(join.room_id, join.secret, join.label, open=join.invite is None))
            if join.invite is not None:  # derived from the room id alone: anyone may know it
                out.append(RoomSecret(join.room_id, probe_secret(join.room_id), "probe", open=True))
        return out

    # ----- joining --------------------------------------------------------------------------------

    async def async_join(self, link: str, timeout: float = 30.0,
                         progress: Callable[[str, float, int], None] | None = None) -> Room:
        """Join through an invite link, via any member online."""
        invite = parse_invite(link)
        if invite.expires_ms < now_ms():
            raise BadInvite("That invite has expired; ask for a new one.")
        if self.node.has_room(invite.room_id):
            room = self.node.room(invite.room_id)
            if room.my_role() is not None:
                raise HubbubError(f"You are already a member of {room.name}.")
        join = Join(invite, invite.room_id, invite.secret, f"join:{invite.invite_id}", invite.room_name or "the room",
                    asyncio.get_running_loop().create_future())
        return await self._async_join(join, timeout, progress)

    async def async_join_public(self, room_id: bytes, timeout: float = 30.0) -> Room:
        """Join a public room seen on the LAN (the room browser's one click)."""
        join = Join(None, room_id, public_secret(room_id), "public-join", "the room",
                    asyncio.get_running_loop().create_future())
        return await self._async_join(join, timeout, None)

    async def _async_join(self, join: Join, timeout: float, progress: Callable[[str, float, int], None] | None) -> Room:
        key = join.label + join.room_id.hex()
        self.joins[key] = join
        self._refresh()
        ticker = asyncio.create_task(self._tick(join, progress))
        try:
            room_id = await asyncio.wait_for(join.done, timeout)
        except asyncio.TimeoutError as exc:
            self._forget_unfinished(join)
            if join.invite is not None:
                raise BadInvite(f"No member of {join.name} answered: none seems to be online.") from exc
            raise HubbubError("No member of that room answered on the LAN; is one of them online?") from exc
        except BaseException:
            self._forget_unfinished(join)
            raise
        finally:
            ticker.cancel()
            self.joins.pop(key, None)
            self._refresh()
        return self.node.room(room_id)

    async def _tick(self, join: Join, progress: Callable[[str, float, int], None] | None) -> None:
        start = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            elapsed = time.monotonic() - start
            if progress is not None:
                with contextlib.suppress(Exception):
                    progress(join.name, elapsed, len(self.peer.peers()))
            call_all(self.listeners.join_progress, join.name, elapsed, len(self.peer.peers()))
            if join.first_unknown is not None and time.monotonic() - join.first_unknown > UNKNOWN_GRACE:
                self._fail(join, BadInvite(f"The members of {join.name} who are online do not know that invite; "
                                           "it may have been withdrawn, or be for another room."))

    def _forget_unfinished(self, join: Join) -> None:
        """A join that did not finish leaves no room behind (a grant may have stored one)."""
        if join.granted and self.node.has_room(join.room_id):
            room = self.node.room(join.room_id)
            if room.my_role() is None:
                self.node.forget_room(join.room_id)

    def _fail(self, join: Join, error: Exception) -> None:
        if not join.done.done():
            join.done.set_exception(error)

    def stop(self) -> None:
        for join in self.joins.values():
            self._fail(join, HubbubError("The node stopped before the join finished."))

    def _join_for(self, room_id: bytes) -> Join | None:
        return next((j for j in self.joins.values() if j.room_id == room_id and not j.done.done()), None)

    # ----- matches ---------------------------------------------------------------------------------

    def on_match(self, event: RoomMatched) -> None:
        mine, theirs = event.my_label, event.their_label
        if mine == "probe" and theirs == "probe":
            join = self._join_for(event.room_id)
            if join is not None and join.invite is not None and not self._is_member(event.room_id):
                join.members_found.add(event.peer)
                with contextlib.suppress(P2PError, ValueError):
                    self.peer.send(event.peer, "sync", event.room_id, JoinRequest(join.invite.invite_id).encode())
            return
        if not self.node.has_room(event.room_id):
            return
        room = self.node.room(event.room_id)
        if mine.startswith("spent:") and theirs == "join:" + mine[6:]:
            self._refuse(event.peer, room, mine[6:])
        elif mine.startswith("invite:") or mine == "public":
            self._admit(event.peer, room, mine, theirs)

    def _is_member(self, room_id: bytes) -> bool:
        return self.node.has_room(room_id) and self.node.room(room_id).my_role() is not None

    def _refuse(self, peer: bytes, room: Room, invite_id: str) -> None:
        invite = room.log.state().invites.get(invite_id)
        if invite is None:
            reason = "unknown"
        elif invite.exhausted:
            reason = "used"
        else:
            reason = "expired" if invite.expires_ms is not None and invite.expires_ms <= now_ms() else ""
        if not reason:
            return  # it can still admit: the invite match does that
        log.info("refusing %s: invite %s is %s", peer.hex()[:12], invite_id, reason)
        with contextlib.suppress(P2PError, ValueError):
            self.peer.send(peer, "sync", room.id, JoinRefusal(reason, invite_id).encode())

    def on_request(self, peer: bytes, room_id: bytes, request: JoinRequest) -> None:
        """A joiner that found us asks about its invite."""
        if self._is_member(room_id):
            self._refuse(peer, self.node.room(room_id), request.invite_id)

    def on_refusal(self, peer: bytes, room_id: bytes, refusal: JoinRefusal) -> None:
        join = self._join_for(room_id)
        if join is None or join.granted or join.invite is None or join.invite.invite_id != refusal.invite_id:
            return  # (a late answer about an earlier attempt)
        if refusal.reason in SENTENCES:
            self._fail(join, BadInvite(SENTENCES[refusal.reason]))
            return
        join.unknown_to.add(peer)
        if join.first_unknown is None:
            join.first_unknown = time.monotonic()
        if join.members_found and join.members_found <= join.unknown_to:
            self._fail(join, BadInvite(f"The members of {join.name} who are online do not know that invite; "
                                       "it may have been withdrawn, or be for another room."))

    def _admit(self, peer: bytes, room: Room, my_label: str, their_label: str) -> None:
        """A joiner proved an invite (or asks to join a public room): add it and send the keys."""
        if peer not in room.log.state().members:
            try:
                if my_label.startswith("invite:") and their_label == "join:" + my_label[7:]:
                    room.add_member(peer, invite=my_label[7:])
                elif my_label == "public" and their_label == "public-join":
                    room.add_member(peer, public=True)
                else:
                    return
            except HubbubError as exc:
                log.info("not admitting %s: %s", peer.hex()[:12], exc)
                return
            log.info("admitted %s to %s", peer.hex()[:12], room.name)
        grant = make_grant(room, peer)
        if grant is not None:
            with contextlib.suppress(P2PError, ValueError):
                self.peer.send(peer, "sync", room.id, grant.encode())
        self._refresh()
        self.sync.start(peer, room)

    # ----- grants -----------------------------------------------------------------------------------

    def on_grant(self, peer: bytes, room_id: bytes, grant: Grant) -> None:
        """Keys for a room (not a direct one): a joiner's answer, or keys a member lacked."""
        join = self._join_for(room_id)
        if self.node.has_room(room_id) and (join is None or join.granted):
            room = self.node.room(room_id)
            keys = open_grant_keys(self.node.profile.identity, grant)
            if keys and room.offer_keys(keys, durable=False):
                self._refresh()
            self.check_done(room)
            return
        if join is None:
            return
        checked = check_grant(self.node.profile.identity, room_id, grant)
        if isinstance(checked, str):
            log.warning("%s %s", peer.hex()[:12], checked)
            self.peer.report_invalid(peer, checked)
            self.sync.invalid[peer] = self.sync.invalid.get(peer, 0) + 1
            return
        keys, genesis = checked
        join.granted = True
        if not self.node.has_room(room_id):
            name = grant.name or (join.invite.room_name if join.invite else "room")
            self.node.profile.store.add_room(room_id, name, {room_id: keys.pop(room_id)})
        room = self.node.room(room_id)
        room.ingest([genesis], durable=False)
        room.offer_keys(keys, durable=False)
        self._room_added(room)
        self.sync.start(peer, room)
        self.check_done(room)

    def check_done(self, room: Room) -> None:
        """A join finishes when we hold our own `add` (then we tell the room our name)."""
        if room.my_role() is None:
            return
        for join in list(self.joins.values()):
            if join.room_id == room.id and join.granted and not join.done.done():
                if self.node.profile.display_name:
                    with contextlib.suppress(HubbubError):
                        room.set_member_name(self.node.profile.display_name)
                join.done.set_result(room.id)
