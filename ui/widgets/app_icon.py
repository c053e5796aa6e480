"""The Hubbub icon (a speech bubble) drawn in code, with the unread count painted on it for the tray."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap


def app_icon(unread: int = 0) -> QIcon:
    """The Hubbub icon, with `unread` (when not 0) in a red badge."""
    pix = QPixmap(64, 64)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#5865f2"))
    p.drawRoundedRect(4, 6, 56, 44, 14, 14)
    p.drawPolygon([QPoint(16, 46), QPoint(30, 46), QPoint(14, 60)])
    p.setPen(QColor("white"))
    f = QFont()
    f.setBold(True)
    f.setPointSize(20)
    p.setFont(f)
    p.drawText(4, 6, 56, 44, Qt.AlignmentFlag.AlignCenter, "h")
    if unread:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#f23f43"))
        p.drawEllipse(34, 0, 30, 30)
        p.setPen(QColor("white"))
        f.setPointSize(11)
        p.setFont(f)
        p.drawText(34, 0, 30, 30, Qt.AlignmentFlag.AlignCenter, "99" if unread > 99 else str(unread))
    p.end()
    return QIcon(pix)
