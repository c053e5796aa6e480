"""Notification settings: levels and their inheritance, mutes that end, keywords, @everyone/@here, and what settings.json may hold."""

from __future__ import annotations

from pathlib import Path

from app.notify_prefs import ALL, EVERYONE, HERE, HERE_FRESH_MS, MENTIONS, NOTHING, NotifyPrefs, valid_notify
from app.profile import decode_settings, open_profile

ROOM, OTHER = b"\x01" * 32, b"\x02" * 32
NOW = 1_700_000_000_000.0


def test_levels_inherit_channel_then_room_then_default() -> None:
    p = NotifyPrefs({})
    assert p.level(ROOM, "general") == MENTIONS and p.level(ROOM, "general", direct=True) == ALL
    p.set_level(ROOM, None, ALL)
    assert p.level(ROOM, "general") == ALL and p.level(OTHER, "general") == MENTIONS
    p.set_level(ROOM, "random", NOTHING)
    assert p.level(ROOM, "random") == NOTHING and p.level(ROOM, "general") == ALL
    p.set_level(ROOM, "random", None)
    assert p.level(ROOM, "random") == ALL


def test_mutes_last_their_time_or_until_turned_off() -> None:
    p = NotifyPrefs({})
    p.set_level(ROOM, None, ALL)
    p.mute(ROOM, "general", 3600, now_ms=NOW)
    assert p.level(ROOM, "general", now_ms=NOW + 3_599_000) == NOTHING
    assert p.level(ROOM, "general", now_ms=NOW + 3_601_000) == ALL
    p.mute(ROOM, None, None, now_ms=NOW)  # the whole room, until turned back on
    assert p.level(ROOM, "random", now_ms=NOW + 10**12) == NOTHING and p.muted(ROOM, "random", NOW)
    p.unmute(ROOM, None)
    assert p.level(ROOM, "random", now_ms=NOW) == ALL


def test_keywords_are_whole_words_in_any_case() -> None:
    p = NotifyPrefs({})
    assert p.set_keywords(["  Deploy ", "deploy", "server down", "", "x" * 100]) == ["Deploy", "server down", "x" * 64]
    hit = lambda text: p.mentions_me(text, [], "me", author_may_mention_all=False, ts_ms=NOW, now_ms=NOW)  # noqa: E731
    assert hit("the DEPLOY failed") and hit("is the server down?") and not hit("redeployment") and not hit("servers")


def test_everyone_and_here_count_only_from_moderators_and_here_only_while_fresh() -> None:
    p = NotifyPrefs({})

    def hit(mentions: list[str], mod: bool, age: float = 0) -> bool:
        return p.mentions_me("hi", mentions, "me", author_may_mention_all=mod, ts_ms=NOW - age, now_ms=NOW)

    assert hit(["me"], False) and hit([EVERYONE], True) and not hit([EVERYONE], False)
    assert hit([HERE], True) and not hit([HERE], False) and not hit([HERE], True, age=HERE_FRESH_MS + 1)


def test_settings_file_values_of_the_wrong_shape_are_dropped(tmp_path: Path) -> None:
    assert valid_notify({"dnd": True, "keywords": ["a"], "rules": {"ab": {"level": "all", "mute_until": -1.0}}})
    for bad in ([], {"dnd": "yes"}, {"rules": {"ab": {"level": "loud"}}}, {"keywords": [1]}, {"rules": {"ab": {"mute_until": True}}}):
        assert not valid_notify(bad)
        assert "notify" not in decode_settings(b'{"notify": %s}' % repr(bad).replace("'", '"').replace("True", "true").encode())
    profile = open_profile(tmp_path / "p", display_name="alice")
    p = NotifyPrefs(profile.settings)
    p.dnd = True
    p.set_level(ROOM, "general", NOTHING)
    profile.save_settings()
    profile.close()
    again = NotifyPrefs(open_profile(tmp_path / "p").settings)
    assert again.dnd and again.level(ROOM, "general") == NOTHING
