"""Writing files that must not come out half-written: fsynced, swapped in whole; secrets with mode 0600."""

from __future__ import annotations

import os
from pathlib import Path


def write_durably(path: Path, data: bytes, *, mode: int = 0o644, exclusive: bool = False) -> None:
    """Write `data` to `path` and fsync it; a new file gets `mode` (less the umask).

    `exclusive` refuses to replace an existing file (FileExistsError); otherwise the
    file is written beside `path` and renamed over it, so a crash leaves the old or
    the new content, never half of one. A failed write (a full disk) leaves nothing behind.
    """
    target = path if exclusive else path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(target, flags, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(target)
        raise
    os.close(fd)
    if not exclusive:
        os.replace(target, path)


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write a secret to `path` as `write_durably` does, readable by its owner only (mode 0600)."""
    write_durably(path, data, mode=0o600, exclusive=exclusive)
    if not exclusive:
        os.chmod(path, 0o600)
