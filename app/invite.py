"""Invite links: `hubbub://join/...` carrying a room id, a single-use invite secret, an expiry and a name hint."""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

from .errors import BadInvite

SCHEME = "hubbub://join/"
VERSION = 1
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

    def link(self) -> str:
        iid = self.invite_id.encode("ascii")
        name = self.room_name.encode("utf-8")[:MAX_NAME].decode("utf-8", "ignore").encode("utf-8")  # whole characters
        body = (bytes((VERSION,)) + self.room_id + bytes((len(iid),)) + iid + self.secret
                + struct.pack(">Q", self.expires_ms) + self.inviter + bytes((len(name),)) + name)
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
        if body[0] != VERSION:
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
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise BadInvite("The invite link is damaged; ask for a new one.") from exc
    if pos != len(body) or len(room_id) != 32 or len(secret) != 32 or len(inviter) != 32:
        raise BadInvite("The invite link is damaged; ask for a new one.")
    invite = Invite(room_id, invite_id, secret, expires, name, inviter)
    if invite.link() != link:  # one spelling per invite: no stray padding, bits or oversized names
        raise BadInvite("The invite link is damaged; ask for a new one.")
    return invite
