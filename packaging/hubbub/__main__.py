"""`python -m hubbub`, the module Briefcase starts (it runs the module named after the app): calls ui.entry:main.

Briefcase copies this folder into the bundle beside app/, p2p/, crdt/ and ui/ (see `sources` in
briefcase.toml). It has no __init__.py on purpose: nothing in packaging/ is a regular package.
"""

from __future__ import annotations

import sys

from ui.entry import main

if __name__ == "__main__":
    sys.exit(main())
