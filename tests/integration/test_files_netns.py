"""Three `hubbub node`s in network namespaces, found by mDNS: A sends a file, C downloads it (direct TCP); B starts
downloading from A and C, A is killed mid-transfer, B finishes from C; the bytes are identical everywhere."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import is_root, require
from tests.integration.netns import NetnsLan, netns_available
from tests.integration.test_lan_party import CLI, HubbubHost, wait_for

pytestmark = [pytest.mark.netns, pytest.mark.timeout(180)]

MIB = 1 << 20


class FileHost(HubbubHost):
    """A party host whose node may get extra environment (B fetches over the data channel, so slowly enough that A
    can be killed while it is still fetching)."""

    def start_with(self, env: dict[str, str]) -> None:
        self.node = self.host.popen([*CLI, "--profile", str(self.profile), "node"], stdout=subprocess.PIPE,
                                    stderr=self.log, text=True, env=env)
        assert self.node.stdout is not None
        line = self.node.stdout.readline()
        assert line.startswith("listening "), f"host {self.host.index} node did not start: {line!r}\n{self.logs()}"

    def chunks_held(self) -> int:
        folder = self.profile / "files" / "chunks"
        return sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")) if folder.is_dir() else 0

    def attachments(self, room: str) -> list[dict[str, object]]:
        return [a for m in json.loads(self.cli("history", room, "--json")) for a in m["attachments"]]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_three_nodes_a_sends_c_downloads_b_finishes_from_c_when_a_is_killed(tmp_path: Path) -> None:
    require(is_root() and netns_available(), "needs root for network namespaces")
    with NetnsLan(3, subnet="10.81.0") as lan:
        a, b, c = (FileHost(h, tmp_path / f"p{h.index}", tmp_path / f"node{h.index}.log") for h in lan.hosts)
        starts = [threading.Thread(target=a.start), threading.Thread(target=c.start),
                  threading.Thread(target=b.start_with, args=({"HUBBUB_FILES_DATACHANNEL": "1"},))]
        for t in starts:
            t.start()
        for t in starts:
            t.join()
        a.cli("room", "create", "files")
        for joiner in (b, c):
            joiner.cli("join", a.cli("invite", "files"), "--timeout", "40")

        src = tmp_path / "payload.bin"
        src.write_bytes(os.urandom(24 * MIB + 12345))
        mid = a.cli("send", "files", "the payload", "--file", str(src))
        assert re.fullmatch(r"[A-Za-z0-9_-]{9,21}", mid)
        wait_for(lambda: len(c.attachments("files")) == 1 and len(b.attachments("files")) == 1, 30,
                 "B and C show the message")
        [att] = c.attachments("files")
        assert att["name"] == "payload.bin" and att["size"] == src.stat().st_size and att["have"] == 0
        assert att["mime"] == "application/octet-stream"

        started = time.monotonic()
        c_out = tmp_path / "c.bin"
        assert c.cli("download", "files", str(att["id"]), "--out", str(c_out), timeout=120) == str(c_out)
        print(f"\nC fetched {src.stat().st_size / MIB:.0f} MiB from A in {time.monotonic() - started:.2f} s")
        assert sha(c_out) == sha(src)
        assert c.attachments("files")[0]["have"] == src.stat().st_size
        assert f"stream to {a.key_prefix()} for payload.bin: route tcp" in c.log_path.read_text(), c.logs()

        # B fetches from A and C at once (over the data channel); A is killed part way through.
        b_out = tmp_path / "b.bin"
        download = b.host.popen([*CLI, "--profile", str(b.profile), "download", "files", str(att["id"]), "--out",
                                 str(b_out), "--timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: b.chunks_held() >= 5, 60, "B has fetched a few chunks")
        assert a.node is not None
        os.killpg(a.node.pid, signal.SIGKILL)
        a.node.wait(10)
        held_at_kill = b.chunks_held()
        out, err = download.communicate(timeout=120)
        assert download.returncode == 0, f"B's download failed: {err}\n{b.logs()}"
        assert out.strip() == str(b_out) and "Traceback" not in err
        assert held_at_kill < 25, "B had every chunk before A was killed: the test proved nothing"
        assert sha(b_out) == sha(src)
        fetched = [line for line in b.log_path.read_text().splitlines() if "fetched" in line and "payload.bin" in line]
        assert fetched, b.logs()
        sources = re.findall(r"(\d+) from ([0-9a-f]{12})", fetched[-1])
        by = {peer: int(n) for n, peer in sources}
        a_key, c_key = a.key_prefix(), c.key_prefix()
        assert by.get(a_key, 0) > 0 and by.get(c_key, 0) > 0, f"B's chunks came from {by}, A is {a_key}, C is {c_key}"
        assert "route datachannel" in b.log_path.read_text()
        print(f"B: {held_at_kill} chunks held when A was killed; chunks by source: {by}")
        assert b.stop() == 0 and c.stop() == 0
