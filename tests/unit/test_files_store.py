"""The profile's chunk store: private files and folders, pins kept past the cache limit, removal off the disk, and a
4 GiB file (sparse) cut into chunks with memory staying flat."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.files.chunker import chunk_file
from app.files.chunks import CHUNK_SIZE
from app.files.store import FileStore, cache_limit


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def stored_file(store: FileStore, tmp: Path, name: str, size: int, pinned: bool) -> bytes:
    src = tmp / name
    src.write_bytes(os.urandom(size))
    chunked = chunk_file(src, store.put_chunk)
    store.save_list(chunked.root, chunked.ids)
    store.record(chunked.root, b"r" * 32, f"msg-{name}", name, size, "application/octet-stream", pinned=pinned)
    return chunked.root


def test_chunks_are_private_and_removal_takes_them_off_the_disk(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "profile")
    root = stored_file(store, tmp_path, "a.bin", CHUNK_SIZE + 10, pinned=True)
    ids = store.ids(root)
    assert ids is not None and len(ids) == 2
    assert mode(store.base) == mode(store.chunks) == 0o700
    for cid in ids:
        assert mode(store.chunk_path(cid)) == 0o600 and mode(store.chunk_path(cid).parent) == 0o700
    assert mode(store.base / "index.sqlite") == 0o600 and mode(store.lists / root.hex()) == 0o600
    assert store.complete(root, CHUNK_SIZE + 10) and store.held_bytes(root, CHUNK_SIZE + 10) == CHUNK_SIZE + 10
    assert store.files_of(b"r" * 32, ["msg-a.bin", "other"]) == [root]
    assert store.remove(root) == 2
    assert not any(store.chunk_path(c).exists() for c in ids) and store.ids(root) is None and store.get(root) is None


def test_a_damaged_chunk_on_disk_is_not_served(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "profile")
    root = stored_file(store, tmp_path, "a.bin", 100, pinned=True)
    [cid] = store.ids(root) or []
    path = store.chunk_path(cid)
    path.write_bytes(b"x" + path.read_bytes()[1:])
    assert store.read_chunk(cid) is None and not path.exists()
    assert not store.complete(root, 100)


def test_the_cache_limit_evicts_cached_files_oldest_first_and_keeps_pinned_ones(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "profile")
    sent = stored_file(store, tmp_path, "sent.bin", CHUNK_SIZE, pinned=True)
    old = stored_file(store, tmp_path, "old.bin", CHUNK_SIZE, pinned=False)
    new = stored_file(store, tmp_path, "new.bin", CHUNK_SIZE, pinned=False)
    evicted = store.evict(int(2.5 * CHUNK_SIZE))
    assert evicted == [old]
    assert store.get(sent) and store.get(new) and store.get(old) is None
    assert store.evict(0) == [new] and store.get(sent) is not None  # a file we sent is kept whatever the limit
    assert cache_limit({"files_cache_mb": 10}) == 10 << 20 and cache_limit({"files_cache_mb": "x"}) == 4096 << 20


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_4_gib_sparse_file_is_chunked_with_flat_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(4 << 30)  # sparse: takes no disk
    start = rss_bytes()
    peak = start
    seen = [0]

    def sink(cid: bytes, sealed: bytes) -> None:
        nonlocal peak
        seen[0] += 1
        if seen[0] % 64 == 0:
            peak = max(peak, rss_bytes())

    chunked = chunk_file(big, sink)
    assert chunked.size == 4 << 30 and len(chunked.ids) == seen[0] == 4096
    assert len(set(chunked.ids)) == 4096  # equal plaintext, different nonces: every chunk differs
    growth = (peak - start) / 2**20
    assert growth < 24, f"memory grew by {growth:.1f} MiB while chunking 4 GiB"
