"""Where a profile lives and what its files are called (standard library only: the CLI's fast path reads this)."""

from __future__ import annotations

import os
from pathlib import Path

IDENTITY_FILE = "identity.key"
SETTINGS_FILE = "settings.json"
DATABASE_FILE = "hubbub.sqlite"
SEARCH_FILE = "search.sqlite"  # the full-text index (app/search), derived from the rooms
SOCKET_NAME = "node.sock"  # the running node's control socket (app/control.py)
ENV_VAR = "HUBBUB_PROFILE"


def default_profile_dir() -> Path:
    """The profile used when neither --profile nor HUBBUB_PROFILE says otherwise."""
    import platformdirs

    return Path(platformdirs.user_data_dir("hubbub", appauthor=False)) / "default"


def resolve_profile_dir(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return default_profile_dir()


def profile_exists(path: Path) -> bool:
    return (path / IDENTITY_FILE).is_file()


def socket_path(profile_dir: Path) -> Path:
    """The control socket of the node running on a profile (it exists only while one runs)."""
    return profile_dir / SOCKET_NAME
