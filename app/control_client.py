"""Forwarding CLI commands to a running `hubbub node` on the same profile (filled in with the node's control socket)."""

from __future__ import annotations

import argparse


def forward_if_running(args: argparse.Namespace) -> int | None:
    """Run the command in the profile's running node and return its exit status, or None if no node runs."""
    return None
