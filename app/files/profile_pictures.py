"""Pictures as room icons and avatars: square, small, sent like any file, and found again in the room.

* A **room icon** is a picture's manifest in the room settings (`icon`, checked by `crdt/schema.py`), so only an
  admin sets it, as with the room's name.
* An **avatar** is part of the profile (`PROFILE/avatar.jpg`, `settings.json` `avatar`) and published into each
  room as a message in the channel `~profile`, which no one creates, so no channel list or export shows it. A
  member's avatar in a room is the picture of their newest message there; deleting it takes the avatar away (and
  its chunks, like any file's).

Both are cropped to a square and re-encoded to AVATAR_SIDE pixels (JPEG, no metadata) before they are sent, so
they stay well under the size that members fetch by themselves.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import HubbubError
from .manifest import Manifest, manifests
from .part import post_with_files
from .sending import store_files

if TYPE_CHECKING:
    from ..node import Node
    from ..room import Room
    from .store import FileStore

PROFILE_CHANNEL = "~profile"  # one of app/room.py HIDDEN_CHANNELS
AVATAR_SIDE = 256
AVATAR_FILE = "avatar.jpg"
SETTING = "avatar"


def square_picture(src: Path, target: Path) -> Path:
    """`src` cropped to its middle square, upright, AVATAR_SIDE pixels, as a JPEG without metadata."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(src) as im:
            upright = ImageOps.exif_transpose(im).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise HubbubError(f"{src.name} is not a picture Hubbub can read ({exc}).") from None
    side = min(upright.size)
    left, top = (upright.width - side) // 2, (upright.height - side) // 2
    square = upright.crop((left, top, left + side, top + side)).resize((AVATAR_SIDE, AVATAR_SIDE))
    buf = io.BytesIO()
    square.save(buf, "JPEG", quality=88)
    target.write_bytes(buf.getvalue())
    return target


def _one_picture(store: FileStore, room: Room, path: Path) -> Manifest:
    square = square_picture(path, store.tmp / f"square-{path.stem[:40]}.jpg")
    try:
        [m] = store_files(store, room.id, [square])
    finally:
        square.unlink(missing_ok=True)
    return m


def set_room_icon(store: FileStore, room: Room, path: Path) -> Manifest:
    """Make a picture the room's icon (an admin's setting; the validator refuses anyone else's)."""
    m = _one_picture(store, room, path)
    store.record(m.root, room.id, "", m.name, m.size, m.mime, pinned=True)
    try:
        room.update_settings(icon=m.to_value())
    except BaseException:
        store.remove(m.root)
        raise
    return m


def room_icon(room: Room) -> Manifest | None:
    value = room.view.settings().get("icon")
    found = manifests([value]) if isinstance(value, dict) else []
    return found[0] if found else None


def publish_avatar(store: FileStore, room: Room, path: Path) -> str:
    """Post my avatar into a room (a message in `~profile`); returns the message id."""
    m = _one_picture(store, room, path)
    return post_with_files(store, room, PROFILE_CHANNEL, "", [m])


def set_avatar(node: Node, store: FileStore, path: Path) -> list[str]:
    """Keep `path` as my avatar in the profile and publish it into every room I am a member of."""
    kept = node.profile.path / AVATAR_FILE
    square_picture(path, kept)
    node.profile.settings[SETTING] = AVATAR_FILE
    node.profile.save_settings()
    out = []
    for room in node.open_rooms():
        if room.my_role() is not None:
            out.append(publish_avatar(store, room, kept))
    return out


def avatar_of(room: Room, author_short: str) -> tuple[str, Manifest] | None:
    """(message id, picture) of a member's avatar in a room: their newest `~profile` message's picture."""
    from ..room import now_ms

    for msg in reversed(room.view.page(PROFILE_CHANNEL, 500, now_ms=now_ms())):
        if msg.author == author_short and not msg.deleted:
            pictures = [m for m in manifests(msg.attachments) if m.is_picture]
            if pictures:
                return msg.id, pictures[0]
    return None
