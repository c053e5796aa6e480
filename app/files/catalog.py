"""Finding a room's attachments: by the id the CLI and the app use (the root in hex, or a prefix of it), and as the
records `history --json` prints."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from crdt.schema import MESSAGES

from ..errors import HubbubError
from .manifest import Manifest, manifests

if TYPE_CHECKING:
    from crdt.view import Message

    from ..room import Room
    from .store import FileStore

HEX = re.compile(r"[0-9a-f]{8,64}")


def room_manifests(room: Room) -> list[tuple[str, Manifest]]:
    """(message id, manifest) of every file in the room's messages that are shown (not deleted, not expired)."""
    from ..room import now_ms

    now = now_ms()
    out: list[tuple[str, Manifest]] = []
    for mid, value in room.view.maps[MESSAGES].items():
        if not isinstance(value, dict) or not value.get("a"):
            continue
        msg = room.view.message(mid, now)
        if msg is None or msg.deleted:
            continue
        out.extend((mid, m) for m in manifests(msg.attachments))
    return out


def find_attachment(room: Room, attachment_id: str, store: FileStore | None = None) -> tuple[str, Manifest]:
    """The message and manifest of the attachment `attachment_id` names; one-sentence HubbubError otherwise."""
    text = attachment_id.strip().lower()
    if not HEX.fullmatch(text):
        raise HubbubError("An attachment id is the hex id that `history --json` prints (at least 8 digits of it).")
    matches = [(mid, m) for mid, m in room_manifests(room) if m.id.startswith(text)]
    if len(matches) > 1:
        raise HubbubError(f"{text} matches {len(matches)} attachments; use more of its id.")
    if matches:
        return matches[0]
    if store is not None and any(f.root.hex().startswith(text) and f.room == room.id for f in store.all_files()):
        raise HubbubError("That file was deleted, or its message expired.")
    raise HubbubError(f"There is no attachment {text} in {room.name} (it may have been deleted).")


def attachment_records(msg: Message, store: FileStore | None) -> list[dict[str, Any]]:
    """What `history --json` says of a message's files: id, name, size, type, bytes held here, picture size."""
    out: list[dict[str, Any]] = []
    for m in manifests(msg.attachments):
        record: dict[str, Any] = {"id": m.id, "name": m.name, "size": m.size, "mime": m.mime,
                                  "have": store.held_bytes(m.root, m.size) if store is not None else 0}
        if m.is_picture:
            record["width"], record["height"] = m.width, m.height
        out.append(record)
    return out
