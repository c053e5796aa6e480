"""Hosts in Linux network namespaces on one bridge, made and torn down by the test itself.

    with NetnsLan(3) as lan:
        proc = lan.hosts[0].popen([sys.executable, "-m", "something"])
        lan.hosts[1].link_down(); ...; lan.hosts[1].link_up()
        print(lan.hosts[2].ip)

Layout: one namespace holds the bridge `br0`; each host namespace holds `eth0`, one end of a
veth pair whose other end (`p<i>`) is a port of the bridge. Nothing is created in the root
namespace, so concurrent test runs do not collide. Processes started with `Host.popen` are
killed on exit, then every namespace is deleted (which deletes the veths and the bridge).
Needs root and iproute2; use `netns_available()` to decide whether to skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def netns_available() -> bool:
    """True when this process can create network namespaces (root and `ip` present)."""
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=20)


@dataclass
class Host:
    """One host: a network namespace with `eth0` on the shared bridge."""

    index: int
    netns: str
    ip: str
    bridge_netns: str
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    @property
    def bridge_port(self) -> str:
        return f"p{self.index}"

    def command(self, argv: list[str]) -> list[str]:
        """`argv` wrapped to run inside this host's namespace."""
        return ["ip", "netns", "exec", self.netns, *argv]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for processes on this host: the repo on PYTHONPATH, unbuffered output."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(extra or {})
        return env

    def popen(self, argv: list[str], *, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[Any]:
        """Start `argv` inside the namespace; it is killed when the LAN is torn down."""
        kwargs.setdefault("start_new_session", True)
        proc = subprocess.Popen(self.command(argv), env=self.env(env), **kwargs)
        self.processes.append(proc)
        return proc

    def run(self, argv: list[str], *, timeout: float = 60, check: bool = True,
            env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside the namespace to completion, capturing text output."""
        return subprocess.run(
            self.command(argv), env=self.env(env), timeout=timeout, check=check,
            capture_output=True, text=True, **kwargs,
        )

    def python(self, *args: str, **kwargs: Any) -> subprocess.Popen[Any]:
        """Start this interpreter with `args` inside the namespace."""
        return self.popen([sys.executable, *args], **kwargs)

    def link_down(self) -> None:
        """Pull this host's cable: its bridge port goes down (the host keeps its address)."""
        _ip("-n", self.bridge_netns, "link", "set", self.bridge_port, "down")

    def link_up(self) -> None:
        """Plug the cable back in."""
        _ip("-n", self.bridge_netns, "link", "set", self.bridge_port, "up")

    def stop_processes(self, timeout: float = 5.0) -> None:
        """SIGTERM every process started here, then SIGKILL what is left."""
        for proc in self.processes:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(5)
        self.processes.clear()


class JsonLineEvents:
    """The JSON-line events a child process prints on stdout, collected by a reader thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                self.events.append(event)

    def find(self, where: Callable[[dict[str, Any]], bool], timeout: float, after: int = 0,
             poll: float = 0.005) -> dict[str, Any] | None:
        """The first event from index `after` on that matches, waiting up to `timeout`; None if none came
        (or the process ended first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for event in self.events[after:]:
                    if where(event):
                        return event
            if self.proc.poll() is not None:
                break
            time.sleep(poll)
        return None

    def count(self, where: Callable[[dict[str, Any]], bool]) -> int:
        with self._lock:
            return sum(1 for e in self.events if where(e))


class Probe:
    """A `python -m p2p.probe` (or `module`) process on a host, its JSON-line events collected by a thread."""

    def __init__(self, host: Host, *args: str, module: str = "p2p.probe", stderr: Any = subprocess.DEVNULL,
                 timings: bool = True) -> None:
        self.spawned = time.monotonic()
        extra = ["--test-timings"] if timings else []
        self.proc = host.python("-m", module, *extra, *args, stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                                stderr=stderr, text=True)
        self.stream = JsonLineEvents(self.proc)

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.stream.events

    def wait(self, where: Callable[[dict[str, Any]], bool], timeout: float, what: str, after: int = 0) -> dict[str, Any]:
        event = self.stream.find(where, timeout, after=after, poll=0.02)
        if event is None:
            raise AssertionError(f"timed out waiting for {what}; last events: {self.events[-8:]}")
        return event

    def started(self, timeout: float = 15) -> dict[str, Any]:
        return self.wait(lambda e: e["event"] == "started", timeout, "start")

    def count(self, where: Callable[[dict[str, Any]], bool]) -> int:
        return self.stream.count(where)

    def command(self, line: str) -> None:
        """Write one command line to the process's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def ask(self, line: str, answer: str, timeout: float = 10) -> dict[str, Any]:
        """Send a command and wait for the next event named `answer`."""
        mark = len(self.events)
        self.command(line)
        return self.wait(lambda e: e["event"] == answer, timeout, answer, after=mark)


def _signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class NetnsLan:
    """`count` hosts on one bridge, addressed `<subnet>.1`, `<subnet>.2`, ... /24."""

    def __init__(self, count: int, *, subnet: str = "10.77.0") -> None:
        if not 1 <= count <= 200:
            raise ValueError("between 1 and 200 hosts")
        tag = uuid.uuid4().hex[:8]
        self.bridge_netns = f"hbbr-{tag}"
        self.hosts = [
            Host(i, f"hbh{i}-{tag}", f"{subnet}.{i + 1}", self.bridge_netns) for i in range(count)
        ]
        self._created: list[str] = []

    def __enter__(self) -> NetnsLan:
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _add_netns(self, name: str) -> None:
        _ip("netns", "add", name)
        self._created.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def _create(self) -> None:
        self._add_netns(self.bridge_netns)
        _ip("-n", self.bridge_netns, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.bridge_netns, "link", "set", "br0", "up")
        for host in self.hosts:
            self._add_netns(host.netns)
            _ip("link", "add", "eth0", "netns", host.netns, "type", "veth",
                "peer", "name", host.bridge_port, "netns", self.bridge_netns)
            _ip("-n", self.bridge_netns, "link", "set", host.bridge_port, "master", "br0")
            _ip("-n", self.bridge_netns, "link", "set", host.bridge_port, "up")
            _ip("-n", host.netns, "addr", "add", f"{host.ip}/24", "dev", "eth0")
            _ip("-n", host.netns, "link", "set", "eth0", "up", "multicast", "on")

    def close(self) -> None:
        """Kill the hosts' processes and delete every namespace created (idempotent)."""
        for host in self.hosts:
            host.stop_processes()
        for name in reversed(self._created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
        self._created.clear()
