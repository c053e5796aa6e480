"""`python -m hubbub`, the module Briefcase starts (it runs the module named after the app): calls ui.entry:main.

Briefcase copies this folder into the bundle beside app/, p2p/, crdt/ and ui/ (see `sources` in
briefcase.toml). It has no __init__.py on purpose: nothing in packaging/ is a regular package.

The installed package holds no bytecode (Debian forbids shipping it, and Briefcase's launcher runs
Python with bytecode writing off), so every start would compile every module again: about half a
second here. Bytecode goes to the user's cache folder instead ($XDG_CACHE_HOME/hubbub/bytecode),
written by the first start and read by the later ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _cache_bytecode() -> None:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hubbub" / "bytecode"
    sys.pycache_prefix = str(cache)
    sys.dont_write_bytecode = False


if __name__ == "__main__":
    _cache_bytecode()
    from ui.entry import main

    sys.exit(main())
