"""The member list's route mark: a small icon and label at the right of a member's row (LAN, Internet, TURN), with its tooltip."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip,
                               QWidget)

from .. import icons
from ..state.routes import RouteMark
from ..theme import Theme

ROUTE_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's RouteMark.route ("lan", "direct", "turn"), or None
ICON = 14
PAD = 6

Index = QModelIndex | QPersistentModelIndex
MarkOf = Callable[[Index], RouteMark | None]


def _font(base: QFont) -> QFont:
    f = QFont(base)
    f.setPointSizeF(7.5)
    f.setBold(True)
    return f


def mark_rect(row: QRect, mark: RouteMark, base: QFont) -> QRect:
    """Where the mark is drawn in a row: its icon and label, against the right edge."""
    width = ICON + 3 + QFontMetrics(_font(base)).horizontalAdvance(mark.label)
    return QRect(row.right() - PAD - width, row.center().y() - ICON // 2, width, ICON)


class RouteDelegate(QStyledItemDelegate):
    """Paints a row as usual, then its route mark (`mark_of`); the mark's tooltip is read fresh (`fresh_of`: the round
    trip changes while the list stays)."""

    def __init__(self, theme: Theme, mark_of: MarkOf, fresh_of: MarkOf, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.mark_of = mark_of
        self.fresh_of = fresh_of

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        mark = self.mark_of(index)
        if mark is None:
            super().paint(painter, option, index)
            return
        rect = mark_rect(option.rect, mark, option.font)  # type: ignore[attr-defined]
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        room = rect.left() - PAD - opt.rect.left() - opt.decorationSize.width() - 12  # type: ignore[attr-defined]
        opt.text = opt.fontMetrics.elidedText(opt.text, Qt.TextElideMode.ElideRight, max(room, 0))  # type: ignore[attr-defined]
        style = opt.widget.style() if opt.widget is not None else QApplication.style()  # type: ignore[attr-defined]
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)  # type: ignore[attr-defined]
        colour = self.theme.online if mark.route == "lan" else self.theme.muted
        painter.save()
        painter.drawPixmap(rect.left(), rect.top(), icons.pixmap(mark.icon, ICON, colour))
        painter.setFont(_font(option.font))  # type: ignore[attr-defined]
        painter.setPen(QColor(colour))
        painter.drawText(rect.adjusted(ICON + 3, 0, 0, 0), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         mark.label)
        painter.restore()

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem, index: Index) -> bool:
        mark = self.mark_of(index) if event.type() == QEvent.Type.ToolTip else None
        if mark is not None and mark_rect(option.rect, mark, option.font).contains(event.pos()):  # type: ignore[attr-defined]
            now = self.fresh_of(index)
            QToolTip.showText(event.globalPos(), (now or mark).tooltip, view)
            return True
        return super().helpEvent(event, view, option, index)
