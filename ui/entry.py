"""The `hubbub` console entry point: a command runs the CLI; no command opens the desktop app."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app.cli import build_parser, run


def _has_display() -> bool:
    """Whether Qt can open a window here (an X11 or Wayland display, another OS, or a chosen platform)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_desktop(profile_dir: Path, link: str | None) -> int:
    if importlib.util.find_spec("ui.desktop") is None:
        build_parser().print_help()
        return 0
    if not _has_display():
        print("hubbub: there is no display to open the desktop app on (DISPLAY is not set); "
              "run it in a desktop session, or use the commands: hubbub --help.", file=sys.stderr)
        return 1
    from ui.single_instance import SingleInstance, pass_on

    instance = SingleInstance(profile_dir)
    if not instance.lock():  # Hubbub is open on this profile: hand it the link without loading the widgets
        return pass_on(profile_dir, link)
    from ui.desktop import launch

    return launch(profile_dir, link, instance)


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv, open_desktop=_open_desktop)


if __name__ == "__main__":
    sys.exit(main())
