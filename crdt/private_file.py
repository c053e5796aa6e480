"""Writing secrets to disk: files only their owner can read (mode 0600), fsynced before they count."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write `data` to `path` with mode 0600 and fsync it.

    `exclusive` refuses to replace an existing file (FileExistsError); otherwise the
    file is written beside `path` and renamed over it, so a crash leaves the old or
    the new content, never half of one.
    """
    target = path if exclusive else path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(target, flags, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(target)  # a half-written file (a full disk) must not be left behind
        raise
    os.close(fd)
    if not exclusive:
        os.replace(target, path)
        os.chmod(path, 0o600)
