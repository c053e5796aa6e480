"""`python -m bench package`: the .deb's size and build time, and the installed launcher's cold start beside the venv's.

Cold start is measured as `bench ui` measures it: from just before the process starts to the
first paint of the main window, on the same 10k-message profile (1k with --quick). Here the
process is the whole app (`hubbub` with no command: single-instance check, node, window, then
networking), started by a launcher: the package's usr/bin/hubbub unpacked from the .deb, and the
venv's console script, the same way, in a network namespace (the app starts mDNS; needs root).
The paint time comes from the app's HUBBUB_TEST_REPORT file (ui/report.py).

- `installed_first_start_s`: the installed launcher with an empty bytecode cache (the first start
  after installing: every module compiled);
- `installed_cold_start_s`, `venv_cold_start_s`: later starts (bytecode cached), median of seven,
  interleaved with `bench_ui_cold_start_s`, `bench ui`'s own cold start (a child that builds only
  the window, no node networking and no single-instance check) in the same run;
- `second_start_handover_s`: `hubbub LINK` while the app runs, until it has handed the link over
  and exited;
- `deb_size_mb`, `installed_mb` and its largest parts (PySide6 with Qt; PyAV with FFmpeg, which
  aiortc imports; numpy; cryptography); `deb_build_s`: the build of the
  cached package (packaging/deb_cache.py; made now if there is none, with a warm pip cache).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.integration.installed_app import app_env, deb_cache, unpack, wait_shown
from tests.integration.netns import Host, NetnsLan
from tests.unit.test_links import invite_link

ROOT = Path(__file__).resolve().parent.parent
# What dominates the installed size: the bundled wheels, by distribution (their folders in app_packages).
LARGEST = {"pyside6": ("PySide6", "shiboken6"), "av": ("av", "av.libs"), "numpy": ("numpy", "numpy.libs"),
           "cryptography": ("cryptography",)}


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def _cold_start(host: Host, launcher: list[str], env: dict[str, str], report: Path) -> float:
    """Seconds from just before the start to the main window's first paint; the app is stopped after."""
    report.unlink(missing_ok=True)
    t0 = time.time()
    proc = host.popen(launcher, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        shown = wait_shown(report, "MainWindow", timeout=120, proc=proc)
    finally:
        host.stop_processes()
    return float(shown["t"]) - t0


def _handover(host: Host, launcher: list[str], env: dict[str, str], report: Path) -> float:
    """Seconds a second start takes to hand the running app a link and exit."""
    report.unlink(missing_ok=True)
    proc = host.popen(launcher, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_shown(report, "MainWindow", timeout=120, proc=proc)
        t0 = time.monotonic()
        second = host.run([*launcher, invite_link()], env=env, timeout=60, check=False)
        elapsed = time.monotonic() - t0
        if second.returncode != 0:
            raise RuntimeError(f"the second start failed: {second.stderr[-2000:]}")
    finally:
        host.stop_processes()
    return elapsed


def run(quick: bool) -> dict[str, Any]:
    from bench.ui import _profile_with_room, _run_child

    cache = deb_cache()
    deb: Path = cache.cached() or cache.build()
    messages = 1_000 if quick else 10_000
    reps = 1 if quick else 7
    out: dict[str, Any] = {"deb_size_mb": deb.stat().st_size / 1e6, "deb_build_s": cache.build_seconds(deb) or 0.0}
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-package-") as tmp_name:
        tmp = Path(tmp_name)
        installed = unpack(deb, tmp / "root")
        packages = installed.parent.parent / "lib" / "hubbub" / "app_packages"
        out["installed_mb"] = _size_mb(tmp / "root")
        for name, folders in LARGEST.items():
            out[f"installed_{name}_mb"] = sum(_size_mb(packages / f) for f in folders if (packages / f).is_dir())
        profile = tmp / "profile"
        shutil.copytree(_profile_with_room(messages), profile)
        report = tmp / "report.jsonl"
        venv_launcher = Path(sys.executable).with_name("hubbub")
        venv = [str(venv_launcher)] if venv_launcher.is_file() else [sys.executable, "-m", "ui.entry"]
        with NetnsLan(1) as lan:
            host = lan.hosts[0]
            env = app_env(profile, report, tmp / "bytecode")
            venv_env = dict(env, PYTHONPATH=str(ROOT))
            out["installed_first_start_s"] = _cold_start(host, [str(installed)], env, report)
            _cold_start(host, venv, venv_env, report)  # the venv's bytecode is written once too
            installed_s, venv_s, child_s = [], [], []
            for _ in range(reps):  # interleaved, so both see the same load on this shared machine
                installed_s.append(_cold_start(host, [str(installed)], env, report))
                venv_s.append(_cold_start(host, venv, venv_env, report))
                child_s.append(_run_child("cold", profile)["first_paint"])
            out["installed_cold_start_s"] = statistics.median(installed_s)
            out["venv_cold_start_s"] = statistics.median(venv_s)
            out["bench_ui_cold_start_s"] = statistics.median(child_s)
            out["second_start_handover_s"] = _handover(host, [str(installed)], env, report)
    out["room_messages"] = messages
    return out
