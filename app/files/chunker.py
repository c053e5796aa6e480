"""A file on disk cut into sealed chunks, one chunk in memory at a time, handed to a sink (the chunk store)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .chunks import CHUNK_SIZE, chunk_count, chunk_length, chunk_id, file_root, new_file_key, seal_chunk

Sink = Callable[[bytes, bytes], None]  # (chunk id, sealed chunk)
Progress = Callable[[int], None]  # bytes done


@dataclass(frozen=True, slots=True)
class Chunked:
    """What cutting a file gave: its key, size, chunk ids and root."""

    key: bytes
    size: int
    ids: list[bytes]
    root: bytes


def chunk_file(path: Path, sink: Sink, key: bytes | None = None, progress: Progress | None = None) -> Chunked:
    """Read `path` chunk by chunk, seal each and hand it to `sink`; memory stays at one chunk whatever the size."""
    key = key or new_file_key()
    ids: list[bytes] = []
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(0)
        for index in range(chunk_count(size)):
            plain = f.read(CHUNK_SIZE)
            if len(plain) != chunk_length(size, index):
                raise OSError(f"{path} changed while it was being read")
            sealed = seal_chunk(key, size, index, plain)
            cid = chunk_id(sealed)
            sink(cid, sealed)
            ids.append(cid)
            if progress is not None:
                progress(f.tell())
        if f.read(1):
            raise OSError(f"{path} grew while it was being read")
    return Chunked(key, size, ids, file_root(size, ids))
