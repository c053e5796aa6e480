"""A real relay process for tests: `python -m p2p.relay.serve` (or `hubbub relay serve`), its address read from stdout.

    with RelayProcess(tmp_path / "relay") as relay:       # loopback only (the network rule)
        client = RelayClient(relay.url, timings=RelayTimings.for_tests())
        relay.kill9(); relay.start()                      # same data dir, same port

`Host.popen` from tests/integration/netns.py may start it inside a namespace instead (`argv_prefix`).
Its stderr goes to `log`, at the most verbose level.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Runs the relay and, when HUBBUB_TEST_DUMP_MODULES names a file, writes the loaded module names there
# every half second (the test reads them while the relay is busy).
MODULE_DUMP = """
import json, os, sys, threading
def dump():
    try:
        with open(os.environ["HUBBUB_TEST_DUMP_MODULES"] + ".tmp", "w") as fh:
            json.dump(sorted(sys.modules.copy()), fh)
        os.replace(os.environ["HUBBUB_TEST_DUMP_MODULES"] + ".tmp", os.environ["HUBBUB_TEST_DUMP_MODULES"])
    finally:
        t = threading.Timer(0.5, dump); t.daemon = True; t.start()
if os.environ.get("HUBBUB_TEST_DUMP_MODULES"):
    dump()
from {module} import main
sys.exit(main(sys.argv[1:]))
"""


def relay_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HUBBUB_PROFILE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class RelayProcess:
    """One relay on `listen` (default loopback, a free port) with its data in `data`."""

    def __init__(self, data: Path, *args: str, listen: str = "127.0.0.1:0", argv_prefix: list[str] | None = None,
                 via_hubbub: bool = False, dump_modules: Path | None = None, module: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        """`module`: a stand-in for `p2p.relay.serve` with the same `main` (a relay with a quirk, for tests);
        `env`: more environment for the relay process."""
        self.data = data
        self.args = list(args)
        self.listen = listen
        self.prefix = argv_prefix or []
        self.via_hubbub = via_hubbub
        self.dump_modules = dump_modules
        self.module = module
        self.extra_env = dict(env or {})
        self.log = data.parent / f"{data.name}.log"
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def argv(self) -> list[str]:
        module = self.module or ("ui.entry" if self.via_hubbub else "p2p.relay.serve")
        lead = ["relay", "serve"] if self.via_hubbub and self.module is None else []
        return [*self.prefix, sys.executable, "-c", MODULE_DUMP.format(module=module), *lead,
                "--listen", self.listen, "--data", str(self.data), "-v", *self.args]

    def start(self, timeout: float = 15.0) -> str:
        """Start it and return its address (the first stdout line); later starts reuse the port."""
        extra = {"HUBBUB_TEST_DUMP_MODULES": str(self.dump_modules)} if self.dump_modules else {}
        extra.update(self.extra_env)
        log = self.log.open("a")
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.PIPE, stderr=log, text=True,
                                     env=relay_env(extra), start_new_session=True)
        log.close()
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()
        if not line.startswith("hubbub-relay://") or time.monotonic() > deadline:
            self.stop()
            raise AssertionError(f"the relay did not start: {line!r}; log: {self.log.read_text()[-2000:]}")
        self.url = line.strip()
        self.listen = f"{self.listen.rpartition(':')[0]}:{self.url.rpartition(':')[2]}"
        return self.url

    def kill9(self) -> None:
        """`kill -9` it, right now."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def modules(self) -> list[str]:
        assert self.dump_modules is not None
        loaded: list[str] = json.loads(self.dump_modules.read_text())
        return loaded

    def __enter__(self) -> RelayProcess:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def disk_bytes(path: Path) -> int:
    """Bytes the files under `path` take."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def last_lines(path: Path, count: int = 20) -> list[Any]:
    return path.read_text(errors="replace").splitlines()[-count:]
