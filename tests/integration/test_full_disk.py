"""A full disk (a size-limited tmpfs, really full): one clear sentence, nothing acknowledged is lost,
and everything works again once there is room."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import is_root, require

from .test_cli import hub, ok, one_line_error

pytestmark = pytest.mark.timeout(120)


@contextlib.contextmanager
def small_disk(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (root only), unmounted afterwards."""
    require(is_root() and shutil.which("mount") is not None, "mounting a small tmpfs needs root")
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk refuses another byte; returns it."""
    filler = disk / "filler"
    chunk = b"\0" * 65536
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                if len(chunk) == 1:
                    break
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_one_sentence_and_loses_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        profile = disk / "profile"
        room = ok(hub(profile, "room", "create", "Full")).strip()
        sent = [ok(hub(profile, "send", room, f"before the disk filled {i}")).strip() for i in range(5)]
        filler = fill(disk)

        # Writing fails with one sentence that says why; nothing is half-written.
        refused = one_line_error(hub(profile, "send", room, "x" * 4000))
        assert "disk" in refused and "full" in refused
        # Reading still works, and everything acknowledged is there.
        history = ok(hub(profile, "history", room, "--json"))
        assert all(mid in history for mid in sent)
        # An export onto the full disk fails the same way and leaves no partial file behind.
        out = disk / "export.html"
        refused = one_line_error(hub(profile, "export", room, "--format", "html", "--out", str(out)))
        assert "space" in refused.lower() or "full" in refused.lower()
        assert not out.exists() and not out.with_name(out.name + ".tmp").exists()

        # Room again: writes work, and the history holds the old messages and the new one.
        filler.unlink()
        after = ok(hub(profile, "send", room, "after the disk had room again")).strip()
        history = ok(hub(profile, "history", room, "--json"))
        assert all(mid in history for mid in [*sent, after])
