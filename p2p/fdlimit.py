"""Raising this process's open-file soft limit to its hard limit, as a node does at start-up.

Desktops often start programs with a soft limit of 1,024 file descriptors; every session holds
a UDP socket and every signaling conversation a TCP one. The node's own caps keep it far below
the limit (docs/p2p.md); raising it only keeps the app's other files from being squeezed.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def raise_fd_limit() -> int:
    """Set RLIMIT_NOFILE's soft limit to the hard limit; return the soft limit in force (-1: unknown)."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard
    if hard == resource.RLIM_INFINITY:
        try:
            wanted = int(Path("/proc/sys/fs/nr_open").read_text())
        except (OSError, ValueError):
            wanted = 1 << 20
    if soft != resource.RLIM_INFINITY and soft >= wanted:
        return int(soft)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as exc:
        log.info("could not raise the open-file limit from %d: %s", soft, exc)
        return int(soft)
    return int(wanted)
