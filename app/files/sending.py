"""Files made ready to attach: pictures cleaned (app/files/pictures.py), every file chunked into the store."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from pathlib import Path

from crdt.attachments import MAX_ATTACHMENTS, MAX_FILE_NAME, MAX_FILE_SIZE

from ..errors import HubbubError
from .chunker import chunk_file
from .manifest import Manifest
from .pictures import prepare
from .store import FileStore


def store_files(store: FileStore, room_id: bytes, paths: list[Path], originals: Collection[Path] = ()) -> list[Manifest]:
    """Chunk each file into `store` and return the manifests to post (a picture in `originals` keeps its metadata)."""
    if len(paths) > MAX_ATTACHMENTS:
        raise HubbubError(f"A message can carry at most {MAX_ATTACHMENTS} files.")
    out: list[Manifest] = []
    for path in paths:
        try:
            if not path.is_file():
                raise HubbubError(f"There is no file {path}.")
            if path.stat().st_size > MAX_FILE_SIZE:
                raise HubbubError(f"{path.name} is larger than the {MAX_FILE_SIZE >> 30} GiB a file can be.")
            prepared = prepare(path, store.tmp, original=path in originals)
            try:
                chunked = chunk_file(prepared.path, store.put_chunk)
            finally:
                if prepared.temporary:
                    with contextlib.suppress(OSError):
                        prepared.path.unlink()
            store.save_list(chunked.root, chunked.ids)
        except OSError as exc:
            for m in out:
                store.remove(m.root)
            if exc.errno == 28:
                raise HubbubError(f"The disk is full, so {path.name} could not be stored.") from None
            raise HubbubError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        name = prepared.name[:MAX_FILE_NAME]
        out.append(Manifest(name, chunked.size, prepared.mime, chunked.key, chunked.root, prepared.width,
                            prepared.height, prepared.thumbnail, prepared.blurhash))
    return out
