"""The installed app from the .deb: the cached package of these sources, unpacked with `dpkg-deb -x`, and its launcher run.

Shared by tests/integration/test_deb.py and `python -m bench package`. The launcher is the
package's own usr/bin/hubbub (Briefcase's C launcher with the system's libpython), so what runs is
what `apt install` would run, from a temporary root instead of /. What its windows showed comes
from its HUBBUB_TEST_REPORT file (ui/report.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def deb_cache() -> ModuleType:
    """packaging/deb_cache.py (packaging/ is not a Python package, so it is loaded from its path)."""
    spec = importlib.util.spec_from_file_location("deb_cache", ROOT / "packaging" / "deb_cache.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unpack(deb: Path, root: Path) -> Path:
    """`dpkg-deb -x DEB ROOT`; returns the launcher, ROOT/usr/bin/hubbub."""
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=300)
    return root / "usr" / "bin" / "hubbub"


def app_env(profile: Path, report: Path, cache: Path, **extra: str) -> dict[str, str]:
    """The environment for a run of the app: offscreen Qt, this profile and report, its own bytecode cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBBUB_", "QT_", "PYTHON"))}
    env.update(QT_QPA_PLATFORM="offscreen", HUBBUB_PROFILE=str(profile), HUBBUB_TEST_REPORT=str(report),
               XDG_CACHE_HOME=str(cache), **extra)
    return env


def shown(report: Path) -> list[dict[str, Any]]:
    """The windows the app has reported so far (a line being written is left for the next look)."""
    try:
        lines = report.read_text(encoding="utf-8").splitlines(keepends=True)
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(json.loads(line))
    return out


def wait_shown(report: Path, window: str, timeout: float, proc: subprocess.Popen[Any] | None = None) -> dict[str, Any]:
    """The report of the first `window` (a class name such as "MainWindow") the app showed; waits up to `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in shown(report):
            if record.get("window") == window:
                return record
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the app exited with status {proc.returncode} before showing {window}")
        time.sleep(0.02)
    raise AssertionError(f"the app showed no {window} within {timeout:.0f} s (it showed {shown(report)})")
