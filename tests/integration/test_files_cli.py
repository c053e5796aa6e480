"""The file commands of the real `hubbub` script, through two running nodes on loopback (mDNS off): send --file,
history --json attachments, download (and its one-sentence refusals), room icon and name --avatar."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.integration.clitools import hub, ok, one_line_error, start_node, stop_node
from tests.integration.test_full_disk import small_disk
from tests.pictures import jpeg_with_gps

pytestmark = pytest.mark.timeout(180)


def attachments(profile: Path, room: str) -> list[dict[str, object]]:
    return [a for m in json.loads(ok(hub(profile, "history", room, "--json"))) for a in m["attachments"]]


def test_send_history_download_icon_and_avatar_through_running_nodes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    ok(hub(a, "room", "create", "files"))
    link = ok(hub(a, "invite", "files")).strip()
    node_a, port_a = start_node(a, tmp_path / "a.log")
    node_b = None
    try:
        node_b, _port_b = start_node(b, tmp_path / "b.log", "--connect", f"127.0.0.1:{port_a}")
        ok(hub(b, "join", link, "--timeout", "30", timeout=60))
        blob = tmp_path / "blob.bin"
        blob.write_bytes(os.urandom(3 * 2**20 + 5))
        photo = jpeg_with_gps(tmp_path / "photo.jpg")
        mid = ok(hub(a, "send", "files", "two files", "--file", str(blob), "--file", str(photo))).strip()
        assert mid
        for _ in range(100):
            found = attachments(b, "files")
            if len(found) == 2:
                break
        assert [x["name"] for x in found] == ["blob.bin", "photo.jpg"]
        assert found[0]["size"] == blob.stat().st_size and found[0]["have"] == 0
        assert found[1]["mime"] == "image/jpeg" and (found[1]["width"], found[1]["height"]) == (400, 600)
        assert attachments(a, "files")[0]["have"] == blob.stat().st_size  # the sender holds it all

        out = tmp_path / "out.bin"
        assert ok(hub(b, "download", "files", str(found[0]["id"]), "--out", str(out), timeout=60)).strip() == str(out)
        assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(blob.read_bytes()).digest()
        assert attachments(b, "files")[0]["have"] == blob.stat().st_size
        folder = tmp_path / "folder"
        folder.mkdir()
        ok(hub(b, "download", "files", str(found[0]["id"])[:12], "--out", str(folder), timeout=60))
        assert (folder / "blob.bin").read_bytes() == blob.read_bytes()  # a folder gets the file's own name

        with small_disk(tmp_path / "disk", "1m") as disk:  # the file does not fit: one sentence, no partial file
            refused = one_line_error(hub(b, "download", "files", str(found[0]["id"]), "--out", str(disk / "x.bin"),
                                         timeout=60))
            assert "disk is full" in refused and not list(disk.iterdir())
        assert "hex id" in one_line_error(hub(b, "download", "files", "not-an-id", "--out", str(out)))
        assert "no attachment" in one_line_error(hub(b, "download", "files", "0123456789abcdef", "--out", str(out)))
        assert "no file" in one_line_error(hub(a, "send", "files", "--file", str(tmp_path / "missing.bin")))

        assert len(ok(hub(a, "room", "icon", "files", str(photo))).strip()) == 64
        assert "admin" in one_line_error(hub(b, "room", "icon", "files", str(photo)))
        ok(hub(a, "name", "--avatar", str(photo)))
        assert (a / "avatar.jpg").is_file()

        stop_node(node_a, a, tmp_path / "a.log")
        node_a = None
        refused = one_line_error(hub(b, "download", "files", str(found[1]["id"]), "--out", str(tmp_path / "p.jpg"),
                                     "--timeout", "2", timeout=60))
        assert "Nobody online holds photo.jpg" in refused
        assert not (tmp_path / "p.jpg").exists()
    finally:
        if node_b is not None:
            stop_node(node_b, b, tmp_path / "b.log")
        if node_a is not None:
            stop_node(node_a, a, tmp_path / "a.log")
