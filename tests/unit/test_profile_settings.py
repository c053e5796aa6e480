"""settings.json: a damaged file loses nothing (it is kept aside), and known keys have their types."""

from __future__ import annotations

from pathlib import Path

from app.profile import SETTINGS_FILE, decode_settings, open_profile


def test_a_damaged_settings_file_is_kept_aside_and_defaults_are_used(tmp_path: Path) -> None:
    open_profile(tmp_path, display_name="alice").close()
    damaged = b"[" * 5000  # json.loads alone raises RecursionError on this
    (tmp_path / SETTINGS_FILE).write_bytes(damaged)
    profile = open_profile(tmp_path)
    try:
        assert (tmp_path / (SETTINGS_FILE + ".damaged")).read_bytes() == damaged
        assert profile.display_name  # a default name, saved to a fresh settings.json
        assert decode_settings((tmp_path / SETTINGS_FILE).read_bytes())["display_name"] == profile.display_name
    finally:
        profile.close()


def test_known_keys_of_the_wrong_type_are_dropped_and_others_kept() -> None:
    raw = b'{"display_name": ["x"], "ui_last_channels": {"ab": 3}, "ui_last_room": "ab", "other": [1]}'
    assert decode_settings(raw) == {"ui_last_room": "ab", "other": [1]}
