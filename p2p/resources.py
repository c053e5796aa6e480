"""Process resources a node manages: its open-file limit, and handing freed heap back after a flood.

Desktops often start programs with a soft limit of 1,024 file descriptors; every session holds
a UDP socket and every signaling conversation a TCP one. The node raises the soft limit to the
hard limit at start-up, and its own caps keep it far below (docs/p2p.md).

Every session built and closed frees native memory (OpenSSL, aiortc) that glibc keeps in its
arenas; after a burst of them (a flood) `trim_heap` hands what it can back to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
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


def _malloc_trim() -> object | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


_TRIM = _malloc_trim()


def trim_heap() -> bool:
    """Collect garbage cycles (closed aiortc sessions sit in some), then return freed heap to the
    system where the C library can (glibc's malloc_trim); True if it did. A node's long-lived
    objects are frozen out of the collector (app/service.py), so the collection is short."""
    gc.collect()
    if _TRIM is None:
        return False
    try:
        return bool(_TRIM(0))  # type: ignore[operator]
    except Exception:  # a foreign libc: nothing to hand back
        return False
