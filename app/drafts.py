"""Unsent drafts, one per conversation (room + channel), kept on this device only so they survive a restart.

They live in the profile folder as `drafts.json` (mode 0600), never in a room's log: a draft is
nobody's business but its writer's. A damaged file is read as no drafts (and overwritten on the next save).
"""

from __future__ import annotations

import json
from pathlib import Path

from crdt.private_file import write_private

DRAFTS_FILE = "drafts.json"
MAX_DRAFT = 16_000  # characters kept per draft (a message can be at most this long)


def _key(room_id: bytes, channel: str) -> str:
    return f"{room_id.hex()}/{channel}"


class Drafts:
    """The drafts of one profile; `set` changes them in memory, `save` writes them out (when anything changed)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / DRAFTS_FILE
        self._texts: dict[str, str] = {}
        self.dirty = False
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(loaded, dict):
            self._texts = {k: v[:MAX_DRAFT] for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str) and v}

    def get(self, room_id: bytes, channel: str) -> str:
        return self._texts.get(_key(room_id, channel), "")

    def set(self, room_id: bytes, channel: str, text: str) -> None:
        """Remember `text` as the draft of a conversation; an empty (or blank) text forgets it."""
        key = _key(room_id, channel)
        text = text[:MAX_DRAFT] if text.strip() else ""
        if self._texts.get(key, "") == text:
            return
        if text:
            self._texts[key] = text
        else:
            self._texts.pop(key, None)
        self.dirty = True

    def save(self) -> None:
        """Write the drafts out (atomically, owner-readable only); nothing happens when nothing changed."""
        if not self.dirty:
            return
        write_private(self.path, json.dumps(self._texts, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        self.dirty = False
