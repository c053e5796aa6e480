"""A profile: the folder holding one identity (mode 0600), its settings and its SQLite database."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from crdt.errors import StoreError
from crdt.jsonsafe import loads_capped
from crdt.private_file import write_private
from crdt.store import Store

from .errors import ProfileError
from .notify_prefs import KEY as NOTIFY_KEY
from .notify_prefs import valid_notify
from .paths import DATABASE_FILE, ENV_VAR, IDENTITY_FILE, SETTINGS_FILE, default_profile_dir, profile_exists, resolve_profile_dir

log = logging.getLogger(__name__)

MAX_SETTINGS = 1024 * 1024


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


SETTINGS_TYPES: dict[str, Callable[[Any], bool]] = {
    "display_name": lambda v: isinstance(v, str),
    "ui_theme": lambda v: isinstance(v, str),
    "ui_last_room": lambda v: isinstance(v, str),
    "ui_last_channels": _str_map,
    "relays": lambda v: isinstance(v, list) and all(isinstance(u, str) for u in v),  # app/relay/settings.py
    NOTIFY_KEY: valid_notify,
}
"""The keys the app and the UI read, with what their values must be."""




@dataclass
class Profile:
    """An opened profile folder."""

    path: Path
    identity: SigningKey
    settings: dict[str, Any]
    store: Store

    @property
    def public_key(self) -> bytes:
        return bytes(self.identity.verify_key)

    @property
    def display_name(self) -> str:
        return str(self.settings.get("display_name") or "")

    def set_display_name(self, name: str) -> None:
        name = name.strip()
        if not name or len(name) > 64:
            raise ProfileError("A display name must be 1 to 64 characters.")
        self.settings["display_name"] = name
        self.save_settings()

    def save_settings(self) -> None:
        write_private(self.path / SETTINGS_FILE, encode_settings(self.settings))

    def close(self) -> None:
        self.store.close()


def decode_settings(raw: bytes) -> dict[str, Any]:
    """The settings held in the bytes of settings.json; raises ProfileError and nothing else.

    A known key whose value has the wrong type is dropped, so readers can trust the types."""
    loaded = loads_capped(raw, ProfileError, max_size=MAX_SETTINGS, what="the settings file")
    if not isinstance(loaded, dict):
        raise ProfileError("the settings file does not hold an object")
    for key, valid in SETTINGS_TYPES.items():
        if key in loaded and not valid(loaded[key]):
            del loaded[key]
    return loaded


def encode_settings(settings: dict[str, Any]) -> bytes:
    return json.dumps(settings, indent=2, sort_keys=True).encode("utf-8")


def _read_settings(path: Path) -> dict[str, Any]:
    """The profile's settings; a damaged file is kept aside (never overwritten) and defaults are used."""
    settings_file = path / SETTINGS_FILE
    try:
        raw = settings_file.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ProfileError(f"The settings file {settings_file} cannot be read ({exc.strerror}).") from exc
    try:
        return decode_settings(raw)
    except ProfileError as exc:
        kept = settings_file.with_name(SETTINGS_FILE + ".damaged")
        try:
            os.replace(settings_file, kept)
        except OSError as move:
            raise ProfileError(f"The settings file {settings_file} is damaged ({exc}) and cannot be moved aside "
                               f"({move.strerror}).") from move
        log.warning("The settings file %s was damaged (%s); it was kept as %s and the defaults are used.",
                    settings_file, exc, kept)
        return {}


def _load_identity(path: Path) -> SigningKey:
    key_file = path / IDENTITY_FILE
    try:
        raw = key_file.read_bytes()
    except OSError as exc:
        raise ProfileError(f"The identity file {key_file} cannot be read ({exc.strerror}).") from exc
    if len(raw) != 32:
        raise ProfileError(f"The identity file {key_file} is damaged.")
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        os.chmod(key_file, 0o600)
    return SigningKey(raw)


def _create_identity(path: Path) -> SigningKey:
    key = SigningKey.generate()
    write_private(path / IDENTITY_FILE, bytes(key), exclusive=True)
    return key


def open_profile(path: Path, *, create: bool = True, display_name: str | None = None) -> Profile:
    """Open the profile at `path`, creating the folder and identity if `create` and it is new."""
    if not profile_exists(path):
        if not create:
            raise ProfileError(f"There is no Hubbub profile at {path}.")
        try:
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o700)
            identity = _create_identity(path)
        except OSError as exc:
            raise ProfileError(f"The profile folder {path} cannot be created ({exc.strerror}).") from exc
    else:
        identity = _load_identity(path)
    settings = _read_settings(path)
    try:
        store = Store(path / DATABASE_FILE)
    except StoreError as exc:
        raise ProfileError(f"The profile database cannot be opened: {exc}.") from exc
    profile = Profile(path, identity, settings, store)
    if display_name:
        profile.set_display_name(display_name)
    elif not profile.display_name:
        # The login name; without one, a name others can tell apart (never the same for two people).
        profile.settings["display_name"] = os.environ.get("USER", "") or f"user-{profile.public_key.hex()[:6]}"
        profile.save_settings()
    return profile


__all__ = ["DATABASE_FILE", "ENV_VAR", "IDENTITY_FILE", "SETTINGS_FILE", "Profile", "default_profile_dir", "open_profile",
           "profile_exists", "resolve_profile_dir"]
