"""The `hubbub` console entry point: a command runs the CLI; no command opens the desktop app."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from app.cli import build_parser, run


def _open_desktop(profile_dir: Path) -> int:
    if importlib.util.find_spec("ui.desktop") is None:
        build_parser().print_help()
        return 0
    from ui.desktop import launch

    return launch(profile_dir)


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv, open_desktop=_open_desktop)


if __name__ == "__main__":
    sys.exit(main())
