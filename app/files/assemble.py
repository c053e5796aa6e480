"""A file written out from its chunks: each checked against its id and opened with the file's key, then the whole
file made durable under a temporary name and renamed into place (so a half-written file never has the real name)."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from ..errors import HubbubError
from .chunks import ChunkError, open_chunk
from .manifest import Manifest
from .store import FileStore


class DiskFull(HubbubError):
    """The disk filled up while writing a file."""


def safe_name(name: str) -> str:
    """A file name that cannot climb out of a folder (the manifest's rules already forbid separators)."""
    cleaned = name.replace("/", "_").replace("\\", "_").replace("\0", "_").strip()
    return cleaned if cleaned not in ("", ".", "..") else "download"


def target_path(out: Path, manifest: Manifest) -> Path:
    """Where `--out PATH` puts the file: PATH itself, or the file's own name inside PATH if it is a folder."""
    return out / safe_name(manifest.name) if out.is_dir() else out


def assemble(store: FileStore, manifest: Manifest, ids: list[bytes], out: Path) -> Path:
    """Write the verified plaintext to `out`; returns the path. Raises DiskFull, HubbubError or ChunkError."""
    target = target_path(out, manifest)
    tmp = target.with_name(f".{target.name}.hubbub-part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise _sentence(exc, target) from None
    try:
        with os.fdopen(fd, "wb") as f:
            for index, cid in enumerate(ids):
                sealed = store.read_chunk(cid)
                if sealed is None:
                    raise ChunkError(f"chunk {index} is missing or damaged")
                f.write(open_chunk(manifest.key, manifest.size, index, sealed))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _sentence(exc, target) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sentence(exc: OSError, target: Path) -> HubbubError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"The disk is full, so {target.name} could not be written.")
    return HubbubError(f"Cannot write {target}: {exc.strerror or exc}.")
