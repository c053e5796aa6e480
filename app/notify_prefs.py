"""What may ping me: a level per room and per channel, mutes, do not disturb, and keywords that count as a mention.

Kept in the profile's settings.json under "notify" (checked by `valid_notify`, so a damaged value is dropped
on load and the defaults apply). The level of a channel is its own if set, else its room's, else the default:
every message in a direct room, mentions elsewhere. A mute (for a while, or until turned back on) makes the
level "nothing" while it lasts. Do not disturb silences every desktop notification; counts stay.

What counts as mentioning me (`mentions_me`): my id in the message's mentions; @everyone, and @here while the
message is fresh, when its author is a moderator or above (anyone can put them in a message; only theirs
count); or one of my keywords as a whole word.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ALL, MENTIONS, NOTHING = "all", "mentions", "nothing"
LEVELS = (ALL, MENTIONS, NOTHING)
FOREVER = -1.0          # mute_until: until turned back on
EVERYONE, HERE = "@everyone", "@here"  # what a moderator's message carries in its mentions (crdt/schema.py `mn`)
HERE_FRESH_MS = 10 * 60 * 1000  # @here pings only those there when it was said: not a message synced hours later
MAX_KEYWORDS = 50
MAX_KEYWORD = 64
KEY = "notify"


def _rule_ok(v: Any) -> bool:
    return (isinstance(v, dict) and v.get("level", ALL) in LEVELS
            and isinstance(v.get("mute_until", 0.0), (int, float)) and not isinstance(v.get("mute_until", 0.0), bool))


def valid_notify(value: Any) -> bool:
    """Whether a settings.json "notify" value has the shape this module reads."""
    if not isinstance(value, dict):
        return False
    rules = value.get("rules", {})
    keywords = value.get("keywords", [])
    return (isinstance(value.get("dnd", False), bool) and isinstance(rules, dict) and all(
        isinstance(k, str) and _rule_ok(r) for k, r in rules.items())
        and isinstance(keywords, list) and all(isinstance(k, str) for k in keywords))


@dataclass(frozen=True, slots=True)
class Rule:
    """One room's or channel's own setting: its level (None: not set) and until when it is muted (ms; FOREVER)."""

    level: str | None = None
    mute_until: float = 0.0

    def muted(self, now_ms: float) -> bool:
        return self.mute_until == FOREVER or self.mute_until > now_ms


def _key(room_id: bytes, channel: str | None) -> str:
    return room_id.hex() if channel is None else f"{room_id.hex()}/{channel}"


class NotifyPrefs:
    """The notification settings, read from and written into the profile's settings dict."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        if not valid_notify(settings.get(KEY)):
            settings[KEY] = {}
        self._keyword_re: re.Pattern[str] | None = None
        self._keywords_seen: tuple[str, ...] | None = None

    @property
    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.settings.setdefault(KEY, {})
        return data

    # ----- levels and mutes -------------------------------------------------------------------

    def rule(self, room_id: bytes, channel: str | None = None) -> Rule:
        raw = self._data.get("rules", {}).get(_key(room_id, channel))
        if not isinstance(raw, dict):
            return Rule()
        level = raw.get("level")
        return Rule(level if level in LEVELS else None, float(raw.get("mute_until", 0.0) or 0.0))

    def _set(self, room_id: bytes, channel: str | None, **fields: Any) -> None:
        rules: dict[str, Any] = self._data.setdefault("rules", {})
        key = _key(room_id, channel)
        rule = dict(rules.get(key, {}))
        rule.update(fields)
        rule = {k: v for k, v in rule.items() if v is not None and v != 0.0}
        if rule:
            rules[key] = rule
        else:
            rules.pop(key, None)

    def set_level(self, room_id: bytes, channel: str | None, level: str | None) -> None:
        """Set a room's (channel None) or a channel's level; None goes back to the room's or the default."""
        if level is not None and level not in LEVELS:
            raise ValueError(f"unknown notification level {level!r}")
        self._set(room_id, channel, level=level)

    def mute(self, room_id: bytes, channel: str | None, seconds: float | None, now_ms: float | None = None) -> None:
        """Mute for `seconds` (None: until turned back on)."""
        now = time.time() * 1000.0 if now_ms is None else now_ms
        self._set(room_id, channel, mute_until=FOREVER if seconds is None else now + seconds * 1000.0)

    def unmute(self, room_id: bytes, channel: str | None) -> None:
        self._set(room_id, channel, mute_until=None)

    def muted(self, room_id: bytes, channel: str | None = None, now_ms: float | None = None) -> bool:
        """Whether the room (or the channel, or the room it is in) is muted now."""
        now = time.time() * 1000.0 if now_ms is None else now_ms
        if self.rule(room_id).muted(now):
            return True
        return channel is not None and self.rule(room_id, channel).muted(now)

    def level(self, room_id: bytes, channel: str, *, direct: bool = False, now_ms: float | None = None) -> str:
        """What may ping me in a channel now: the channel's level, else its room's, else the default; muted: nothing."""
        if self.muted(room_id, channel, now_ms):
            return NOTHING
        own = self.rule(room_id, channel).level or self.rule(room_id).level
        return own or (ALL if direct else MENTIONS)

    # ----- do not disturb and keywords -----------------------------------------------------------

    @property
    def dnd(self) -> bool:
        return bool(self._data.get("dnd", False))

    @dnd.setter
    def dnd(self, on: bool) -> None:
        self._data["dnd"] = bool(on)

    @property
    def keywords(self) -> list[str]:
        return [str(k) for k in self._data.get("keywords", [])]

    def set_keywords(self, words: Iterable[str]) -> list[str]:
        """Keep up to 50 keywords (trimmed, without repeats, at most 64 characters); returns what was kept."""
        kept: list[str] = []
        for w in words:
            w = " ".join(w.split())[:MAX_KEYWORD]
            if w and w.lower() not in (k.lower() for k in kept) and len(kept) < MAX_KEYWORDS:
                kept.append(w)
        self._data["keywords"] = kept
        return kept

    def _keyword_pattern(self) -> re.Pattern[str] | None:
        words = tuple(self.keywords)
        if words != self._keywords_seen:
            self._keywords_seen = words
            self._keyword_re = (re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in words), re.IGNORECASE)
                                if words else None)
        return self._keyword_re

    def mentions_me(self, text: str, mentions: list[str], me: str, *, author_may_mention_all: bool, ts_ms: float,
                    now_ms: float | None = None) -> bool:
        """Whether a message (someone else's) mentions me: by id, by @everyone or a fresh @here from a moderator,
        or by one of my keywords."""
        if me in mentions:
            return True
        if author_may_mention_all:
            if EVERYONE in mentions:
                return True
            now = time.time() * 1000.0 if now_ms is None else now_ms
            if HERE in mentions and now - ts_ms < HERE_FRESH_MS:
                return True
        pattern = self._keyword_pattern()
        return pattern is not None and pattern.search(text) is not None
