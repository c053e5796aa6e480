"""The quick switcher (Ctrl+K): every room, channel and person as a target, filtered by a fuzzy query."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    """A place the switcher can jump to: a room, a channel of a room, or a person to message (`person` set)."""

    label: str
    room_id: bytes
    channel: str | None = None
    unread: int = 0
    person: bytes | None = None


def score(query: str, label: str) -> int | None:
    """How well `query` matches `label` (higher is better), or None when its letters do not appear in order."""
    q = query.lower().strip()
    text = label.lower()
    if not q:
        return 0
    if text.startswith(q):
        return 1000 - len(text)
    pos = text.find(q)
    if pos >= 0:
        bonus = 200 if pos > 0 and not text[pos - 1].isalnum() else 0
        return 600 + bonus - pos - len(text)
    total, last = 300, -1
    for ch in q:
        nxt = text.find(ch, last + 1)
        if nxt < 0:
            return None
        total -= (nxt - last - 1) * 3
        last = nxt
    return total - len(text)


def filter_targets(targets: list[Target], query: str, limit: int = 30) -> list[Target]:
    """The targets matching `query`, best first; with no query, unread places first, then the rest in order."""
    if not query.strip():
        return sorted(targets, key=lambda t: -min(t.unread, 1))[:limit]
    scored = [(s, i, t) for i, t in enumerate(targets) if (s := score(query, t.label)) is not None]
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [t for _, _, t in scored[:limit]]
