"""Invite links: `hubbub://join/...` carrying a room id, a single-use invite secret, an expiry, a name hint and maybe relays.

    body = version | room id (32) | n | invite id | secret (32) | expiry ms (u64) | inviter (32) | n | name
           [version 2: count | (length u16 | relay address)*]          | crc32 of all that (u32)

An invite made while the room (or the inviter's profile) has a relay is version 2 and carries the
relays' addresses, so a joiner with no relay of its own reaches the inviter through one; without a
relay the link stays version 1, as before.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

from .errors import BadInvite

SCHEME = "hubbub://join/"
VERSION = 1
VERSION_RELAYS = 2
MAX_LINK_RELAYS = 3  # relay addresses one link carries
NEVER = (1 << 63) - 1  # the expiry a link carries for an invite that never expires
MAX_NAME = 200  # bytes of the room name a link carries


@dataclass(frozen=True, slots=True)
class Invite:
    room_id: bytes
    invite_id: str
    secret: bytes
    expires_ms: int
    room_name: str
    inviter: bytes
    relays: tuple[str, ...] = ()
    """Canonical relay addresses the inviter's node meets joiners on (empty: LAN only)."""

    def link(self) -> str:
        iid = self.invite_id.encode("ascii")
        name = self.room_name.encode("utf-8")[:MAX_NAME].decode("utf-8", "ignore").encode("utf-8")  # whole characters
        relays = [u.encode("utf-8") for u in self.relays[:MAX_LINK_RELAYS]]
        body = (bytes((VERSION_RELAYS if relays else VERSION,)) + self.room_id + bytes((len(iid),)) + iid + self.secret
                + struct.pack(">Q", self.expires_ms) + self.inviter + bytes((len(name),)) + name)
        if relays:
            body += bytes((len(relays),)) + b"".join(struct.pack(">H", len(u)) + u for u in relays)
        body += struct.pack(">I", zlib.crc32(body))
        return SCHEME + base64.urlsafe_b64encode(body).decode("ascii").rstrip("=")


def parse_invite(link: str) -> Invite:
    """Decode an invite link; raises BadInvite with a sentence for the user."""
    link = link.strip()
    if not link.startswith(SCHEME):
        raise BadInvite("That is not a Hubbub invite link (it should start with hubbub://join/).")
    text = link[len(SCHEME):]
    try:
        body = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except ValueError as exc:  # binascii.Error and non-ASCII text are ValueErrors
        raise BadInvite("The invite link is damaged; ask for a new one.") from exc
    if len(body) < 8 or struct.unpack(">I", body[-4:])[0] != zlib.crc32(body[:-4]):
        raise BadInvite("The invite link is damaged or incomplete; ask for a new one.")
    body = body[:-4]
    try:
        if body[0] not in (VERSION, VERSION_RELAYS):
            raise BadInvite("The invite link was made by a newer Hubbub.")
        pos = 1
        room_id = body[pos:pos + 32]; pos += 32
        n = body[pos]; pos += 1
        invite_id = body[pos:pos + n].decode("ascii"); pos += n
        secret = body[pos:pos + 32]; pos += 32
        (expires,) = struct.unpack(">Q", body[pos:pos + 8]); pos += 8
        inviter = body[pos:pos + 32]; pos += 32
        n = body[pos]; pos += 1
        name = body[pos:pos + n].decode("utf-8"); pos += n
        relays: list[str] = []
        if body[0] == VERSION_RELAYS:
            count = body[pos]; pos += 1
            for _ in range(count):
                (n,) = struct.unpack(">H", body[pos:pos + 2]); pos += 2
                relays.append(_relay(body[pos:pos + n].decode("utf-8"))); pos += n
            if not 0 < count <= MAX_LINK_RELAYS:
                raise BadInvite("The invite link is damaged; ask for a new one.")
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise BadInvite("The invite link is damaged; ask for a new one.") from exc
    if pos != len(body) or len(room_id) != 32 or len(secret) != 32 or len(inviter) != 32:
        raise BadInvite("The invite link is damaged; ask for a new one.")
    invite = Invite(room_id, invite_id, secret, expires, name, inviter, tuple(relays))
    if invite.link() != link:  # one spelling per invite: no stray padding, bits or oversized names
        raise BadInvite("The invite link is damaged; ask for a new one.")
    return invite


def _relay(text: str) -> str:
    """A relay address in a link: read strictly, and only in its canonical form."""
    from p2p.relay.errors import RelayError  # (only for links that carry relays: `room list` loads no p2p)
    from p2p.relay.parse import parse_relay_url

    try:
        canon = parse_relay_url(text).url
    except RelayError:
        canon = ""
    if canon != text:
        raise BadInvite("The invite link names a relay address that does not read; ask for a new one.")
    return canon
