"""The frame of a pane beside the channel (a thread, the search): fixed width, a 48 px header row, a column below."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout

PANE_WIDTH = 380


def side_pane(pane: QFrame, name: str, left: int = 16) -> tuple[QVBoxLayout, QFrame, QHBoxLayout]:
    """Lay `pane` out as a side pane: returns its column, its header and the header's row (left margin `left`)."""
    pane.setObjectName(name)
    pane.setFixedWidth(PANE_WIDTH)
    lay = QVBoxLayout(pane)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    head = QFrame(pane)
    head.setObjectName("ChatHeader")
    head.setFixedHeight(48)
    row = QHBoxLayout(head)
    row.setContentsMargins(left, 0, 8, 0)
    lay.addWidget(head)
    return lay, head, row
