"""`python -m p2p.relay.serve`, but slow to hand out TURN credentials: each answer waits HUBBUB_TEST_TURN_DELAY seconds.

A busy relay, or one far away, answers a node's TURN request some time after the node is on it, while
the node may already be meeting peers there (tests/integration/test_wan_turn_late.py). Everything
else is the real relay.
"""

from __future__ import annotations

import asyncio
import os
import sys

from p2p.relay.connection import Connection
from p2p.relay.dispatch import Dispatcher
from p2p.relay.serve import main as serve_main
from p2p.relay.wire import Frame

DELAY = float(os.environ.get("HUBBUB_TEST_TURN_DELAY", "0"))
_answer = Dispatcher._turn


def _late(self: Dispatcher, conn: Connection, frame: Frame) -> None:
    asyncio.get_running_loop().call_later(DELAY, _answer, self, conn, frame)


Dispatcher._turn = _late  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    return serve_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
