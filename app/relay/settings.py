"""Which relays a node uses: a room's (room state, set by an admin, synced like its other settings) and the profile's own.

A room's relays live in its settings (`rl`, crdt/schema.py: at most 4 addresses); only an admin's
write counts, and which one counts is a pure function of the room's valid entries like every other
setting. The profile's relays (`relays` in settings.json) are the user's own: their node meets every
room's members there too, and its invites carry them. Every address is read with
`p2p.relay.parse.parse_relay_url` and kept in its canonical form; one that does not read is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from crdt.schema import MAX_RELAYS
from .. import rights
from ..errors import HubbubError

if TYPE_CHECKING:
    from ..profile import Profile
    from ..room import Room

log = logging.getLogger(__name__)

PROFILE_KEY = "relays"
MAX_ROOM_RELAYS = MAX_RELAYS  # (for the layers above, which do not import crdt)
MAX_PROFILE_RELAYS = 8


def canonical(url: str) -> str:
    """The canonical form of a relay address; HubbubError with the parser's sentence for anything else."""
    # p2p is imported here, not at the top: quick commands (`room list`) load no p2p at all.
    from p2p.relay.errors import RelayError
    from p2p.relay.parse import parse_relay_url

    try:
        return parse_relay_url(url).url
    except RelayError as exc:
        raise HubbubError(str(exc).rstrip(".") + ".") from None


def _readable(urls: object) -> list[str]:
    out: list[str] = []
    for url in urls if isinstance(urls, list) else ():
        try:
            canon = canonical(str(url))
        except HubbubError:
            log.info("ignoring a relay address that does not read: %.80r", url)
            continue
        if canon not in out:
            out.append(canon)
    return out


def room_relays(room: Room) -> list[str]:
    """The relays the room's settings name (an admin set them), canonical, in their order."""
    return _readable(room.view.settings().get("rl"))


def set_room_relays(room: Room, urls: list[str]) -> None:
    """Make `urls` the room's relays (an admin's setting; HubbubError with a sentence otherwise)."""
    rights.enforce(rights.may_set_relays(room))
    canon: list[str] = []
    for url in urls:
        c = canonical(url)
        if c not in canon:
            canon.append(c)
    if len(canon) > MAX_ROOM_RELAYS:
        raise HubbubError(f"A room can use at most {MAX_ROOM_RELAYS} relays.")
    room.update_settings(relays=canon)


def profile_relays(profile: Profile) -> list[str]:
    """The relays this profile adds for all its rooms (`hubbub relay add URL`)."""
    return _readable(profile.settings.get(PROFILE_KEY))


def set_profile_relays(profile: Profile, urls: list[str]) -> None:
    if len(urls) > MAX_PROFILE_RELAYS:
        raise HubbubError(f"A profile can use at most {MAX_PROFILE_RELAYS} relays.")
    profile.settings[PROFILE_KEY] = list(urls)
    profile.save_settings()


def join_relays(invite_relays: Iterable[str], profile: Profile) -> list[str]:
    """Every relay a join is met on: the invite's (canonical already), then the profile's own, once each."""
    out = list(dict.fromkeys(invite_relays))
    out += [u for u in profile_relays(profile) if u not in out]
    return out


def relays_for(room: Room, profile: Profile) -> list[str]:
    """Every relay a room is met on and pushed to: the room's, then the profile's own."""
    out = room_relays(room)
    out += [u for u in profile_relays(profile) if u not in out]
    return out
