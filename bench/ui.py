"""`python -m bench ui`: cold start, idle memory with a 10k room, opening a 100k room, and UI stalls under traffic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hubbub-bench" / "ui"


def _profile_with_room(n: int) -> Path:
    """A profile holding one room of `n` messages in #general (built once, then reused from the cache)."""
    from app.node import Node
    from app.profile import open_profile

    path = CACHE / f"room-{n}"
    marker = path / "ready.json"
    if marker.exists():
        try:
            node = Node(open_profile(path, create=False))
            ok = node.room_list() and node.room(node.room_list()[0][0]).view.count("general") >= n
            node.close()
            if ok:
                return path
        except Exception:  # an old cache from another schema: rebuild it
            pass
    if path.exists():
        import shutil

        shutil.rmtree(path)
    # Signed entries made in memory and stored in one go (about 15 s for 100k), not posted one at a time.
    from bench.crdt import _store_room, make_room

    log, source, writers, key = make_room(n)
    _store_room(path, log, source, key, writers[0])
    marker.write_text(json.dumps({"messages": n}))
    return path


def _child(argv: list[str]) -> int:
    """Run in a fresh process: print a JSON line with the child's measurements."""
    t0 = float(argv[1])
    mode, profile = argv[2], Path(argv[3])
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from app.node import Node
    from app.profile import open_profile
    from ui.desktop import application, build_window

    app = application()
    node = Node(open_profile(profile, create=False))
    window = build_window(node)
    result: dict[str, float] = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, e: QEvent) -> bool:
            if e.type() == QEvent.Type.Paint and "first_paint" not in result:
                result["first_paint"] = time.time() - t0
            return False

    spy = FirstPaint()
    window.view.viewport().installEventFilter(spy)
    window.show()
    deadline = time.monotonic() + (1.5 if mode == "rss" else 10)
    while time.monotonic() < deadline and (mode == "rss" or "first_paint" not in result):
        app.processEvents()
        time.sleep(0.005)
    if mode == "rss":
        QTimer.singleShot(0, lambda: None)
        QApplication.processEvents()
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                result["rss_mb"] = int(line.split()[1]) / 1024
    print(json.dumps(result))
    window.close()
    node.close()
    return 0


def _run_child(mode: str, profile: Path) -> dict[str, float]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-m", "bench.ui", "--child", repr(t0), mode, str(profile)],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return dict(json.loads(line))
    raise RuntimeError(f"bench child failed: {out.stderr[-2000:]}")


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2]


def _open_big_room(profile: Path) -> float:
    """Seconds from selecting a big room (opened from disk) until its newest page is painted."""
    from PySide6.QtWidgets import QApplication

    from app.node import Node
    from app.profile import open_profile
    from ui.state.session import Session
    from ui.widgets.main_window import MainWindow

    node = Node(open_profile(profile, create=False))
    rid = node.room_list()[0][0]
    window = MainWindow(Session(node))
    window.show()
    QApplication.processEvents()
    t = time.perf_counter()
    window.session.select_room(rid)
    QApplication.processEvents()
    window.view.viewport().repaint()
    elapsed = time.perf_counter() - t
    assert window.model.rowCount() > 0
    window.close()
    node.close()
    return elapsed


def _traffic_stall(n: int, seconds: float) -> float:
    """The longest UI-thread stall (ms beyond the heartbeat period) while `n` messages arrive over `seconds`."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.node import Node
    from app.profile import open_profile
    from ui.desktop import build_window

    tmp = Path(tempfile.mkdtemp(prefix="hubbub-bench-ui-"))
    node = Node(open_profile(tmp / "p", display_name="bench"))
    room = node.create_room("traffic")
    window = build_window(node)
    window.show()
    QApplication.processEvents()
    worst = [0.0]
    last = [time.perf_counter()]
    period = 0.004

    def beat() -> None:
        now = time.perf_counter()
        worst[0] = max(worst[0], now - last[0] - period)
        last[0] = now

    sent = [0]

    def arrive() -> None:
        if sent[0] < n:
            room.post("general", f"message {sent[0]} with a little **markdown**")
            sent[0] += 1

    hb = QTimer()
    hb.setInterval(int(period * 1000))
    hb.timeout.connect(beat)
    feed = QTimer()
    feed.setInterval(int(seconds * 1000 / n))
    feed.timeout.connect(arrive)
    hb.start()
    feed.start()
    last[0] = time.perf_counter()
    end = time.monotonic() + seconds * 3
    while sent[0] < n and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.0005)
    for _ in range(20):
        QApplication.processEvents()
    hb.stop()
    feed.stop()
    assert window.model.rowCount() >= min(n, 60)
    window.close()
    node.close()
    return max(0.0, worst[0] * 1000)


def _render_cost(n: int) -> dict[str, float]:
    """Markdown rendering per message (app/render.py, uncached) against its floor in the same run: Qt laying out
    the resulting rich text, which the message painter does anyway; and the worst 16,000-character input."""
    from PySide6.QtGui import QTextDocument

    from app import render

    kinds = ("message {i} with a little **markdown**", "just a plain sentence number {i}",
             "see `code {i}` and https://example.com/{i}", "- item {i}\n- another\n\n> quoted {i}\nanswer",
             "```\nblock {i}\n```\nafter")
    texts = [kinds[i % len(kinds)].format(i=i) for i in range(n)]
    t = time.perf_counter()
    rendered = [render._html(text) for text in texts]
    render_s = time.perf_counter() - t
    t = time.perf_counter()
    for html in rendered:
        doc = QTextDocument()
        doc.setHtml(f"<div>{html}</div>")
        doc.setTextWidth(600)
        doc.size()
    layout_s = time.perf_counter() - t
    worst = 0.0
    for unit in ("[", "![", "*", "[a](", "**_", "<", "> ", "- "):
        t = time.perf_counter()
        render._render((unit * 16_000)[:16_000])
        worst = max(worst, time.perf_counter() - t)
    return {"render_us_per_message": render_s / n * 1e6, "layout_us_per_message": layout_s / n * 1e6,
            "render_over_layout": render_s / layout_s, "render_worst_16k_ms": worst * 1000}


def run(quick: bool) -> dict[str, Any]:
    from ui.desktop import application

    application()
    small = _profile_with_room(1_000 if quick else 10_000)
    big = _profile_with_room(5_000 if quick else 100_000)
    reps = 1 if quick else 3
    cold = _median([_run_child("cold", small)["first_paint"] for _ in range(reps)])
    rss = _run_child("rss", small)["rss_mb"]
    open_s = _median([_open_big_room(big) for _ in range(reps)])
    stall = _traffic_stall(200 if quick else 1000, 2.0 if quick else 10.0)
    return {"cold_start_s": cold, "idle_rss_mb": rss, "open_100k_room_s": open_s, "max_ui_stall_ms": stall,
            **_render_cost(500 if quick else 5000),
            "room_messages_rss": 1_000 if quick else 10_000, "room_messages_open": 5_000 if quick else 100_000}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(_child(sys.argv[1:]))
