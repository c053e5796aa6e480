"""Voice calls between two namespace hosts with `bench.voice_peer`: one listener process, speaker processes per batch.

    calls = PeerCalls(speaker, listener, workdir)                      # listener listens on PORT
    calls = PeerCalls(a, b, workdir, ice=servers, splice="IP:PORT")     # both dial a splice (NATs)
    with calls:
        records = calls.run(speech, [{"loss": 0.0, "jitter_ms": 0.0, "seed": 0}])

Each record is the speaker's JSON line for one call (see bench/voice_peer.py): what entered its
core and when, its nominated pair, and the listener's report (`rx`) with what it played, its
jitter-buffer stats and its pair. The listener's played PCM stays in `workdir` under the path
its report names; a later batch overwrites it, so read it before the next `run`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from tests.integration.netns import Host

PORT = 9010
SAMPLE_RATE = 48000


class PeerCalls:
    """A `bench.voice_peer rx` on `listener` and `bench.voice_peer tx` runs on `speaker`."""

    def __init__(self, speaker: Host, listener: Host, workdir: Path, *, ice: list[dict[str, str]] | None = None,
                 splice: str | None = None) -> None:
        self.speaker, self.listener = speaker, listener
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.ice_json = json.dumps(ice or [])
        self.splice = splice
        self.target = splice or f"{listener.ip}:{PORT}"
        self.rx_log = workdir / "rx.log"
        self._rx: subprocess.Popen[str] | None = None

    def __enter__(self) -> PeerCalls:
        where = ["--dial", self.splice] if self.splice else ["--port", str(PORT)]
        with self.rx_log.open("w") as log:
            self._rx = self.listener.python("-m", "bench.voice_peer", "rx", *where, "--out", str(self.workdir),
                                            "--ice-json", self.ice_json, stdout=subprocess.PIPE, stderr=log,
                                            text=True)
        assert self._rx.stdout is not None
        if not self._rx.stdout.readline():
            raise RuntimeError(f"bench.voice_peer rx did not start: {self.rx_log.read_text()[-2000:]}")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._rx is not None and self._rx.poll() is None:
            self._rx.kill()
            self._rx.wait(10)

    def run(self, speech: np.ndarray, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Make the calls `specs` (loss, jitter_ms, seed, phase) one after another; their records, in order."""
        speech_path = self.workdir / "speech.npy"
        np.save(speech_path, speech)
        seconds = len(specs) * (speech.size / SAMPLE_RATE + 3) + 30
        done = self.speaker.run([sys.executable, "-m", "bench.voice_peer", "tx", self.target,
                                 "--speech", str(speech_path), "--calls", json.dumps(specs),
                                 "--ice-json", self.ice_json], timeout=seconds, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"bench.voice_peer tx failed ({done.returncode}): {done.stderr[-2000:]}\n"
                f"listener: {self.rx_log.read_text()[-2000:]}"
            )
        records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        if len(records) != len(specs):
            raise RuntimeError(f"{len(records)} of {len(specs)} voice calls reported; "
                               f"listener: {self.rx_log.read_text()[-2000:]}")
        return records
