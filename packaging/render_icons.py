"""Renders packaging/icons/hubbub.svg to hubbub-SIZE.png at the sizes Briefcase's Linux template installs.

Run it after editing the SVG: `.venv/bin/python packaging/render_icons.py`. It uses PySide6's QtSvg
(already a dependency), on Qt's offscreen platform, so it needs no display.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent / "icons"
SIZES = (16, 32, 64, 128, 256, 512)


def render(svg: Path = ICONS / "hubbub.svg", out_dir: Path = ICONS) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not an SVG that Qt can render")
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = out_dir / f"hubbub-{size}.png"
        if not image.save(str(target)):
            raise SystemExit(f"render_icons: could not write {target}")
        written.append(target)
    return written


if __name__ == "__main__":
    for path in render():
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    sys.exit(0)
