"""`hubbub node` and `hubbub join`: the parts of the CLI that need the network."""

from __future__ import annotations

import argparse

from .errors import HubbubError
from .invite import parse_invite


def run_node(args: argparse.Namespace) -> int:
    raise HubbubError("The headless node is not available in this build yet.")


def run_join(args: argparse.Namespace) -> int:
    parse_invite(args.link)
    raise HubbubError("Joining through an invite needs a member online on the LAN, and networking is not available in this build yet.")
