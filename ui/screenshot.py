"""`python -m ui.screenshot OUT.png`: render the real window over a demo profile (under Xvfb when there is no display)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _reexec_under_xvfb(out: str) -> int:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return capture(out)
    env = dict(os.environ, HUBBUB_SCREENSHOT_CHILD="1")
    cmd = [xvfb, "-a", "-s", "-screen 0 1280x800x24", sys.executable, "-m", "ui.screenshot", out]
    return subprocess.call(cmd, env=env)


def capture(out: str) -> int:
    from PySide6.QtWidgets import QApplication

    from .demo import build_demo
    from .desktop import application, build_window

    app = application()
    node, live = build_demo()
    try:
        window = build_window(node, live)
        window.resize(1280, 800)
        window.move(0, 0)
        window.show()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        window.view.scrollToBottom()
        QApplication.processEvents()
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(out)
        window.close()
    finally:
        node.close()
    print(f"saved {out}" if ok else f"could not save {out}")
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    out = argv[1] if len(argv) > 1 else "docs/screenshot.png"
    if os.environ.get("DISPLAY") or os.environ.get("HUBBUB_SCREENSHOT_CHILD") or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return capture(out)
    return _reexec_under_xvfb(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
