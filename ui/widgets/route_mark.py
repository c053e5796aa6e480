"""Route marks: a small icon and label (LAN, Internet, TURN) with its tooltip, in a member's row, the DM header and the rail."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QFrame, QHBoxLayout, QLabel, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QToolTip, QWidget)

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


def mark_colour(mark: RouteMark, theme: Theme) -> str:
    """A mark's colour: the online green for the LAN, muted otherwise (the same everywhere a mark is shown)."""
    return theme.online if mark.route == "lan" else theme.muted


def paint_badge_mark(painter: QPainter, mark: RouteMark, x: int, y: int, theme: Theme) -> QRect:
    """A mark's icon alone on a small disc at (x, y), as on a direct room's icon in the rail; returns where it went."""
    disc = ICON + 6
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(theme.sidebar))
    painter.drawEllipse(QRectF(x, y, disc, disc))
    painter.drawPixmap(x + 3, y + 3, icons.pixmap(mark.icon, ICON, mark_colour(mark, theme)))
    painter.restore()
    return QRect(x, y, disc, disc)


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
        colour = mark_colour(mark, self.theme)
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


class RouteLabel(QFrame):
    """A mark as a widget (the DM header's): icon and label, hidden without a session; the tooltip is read fresh (`fresh`)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RouteLabel")
        self.theme = theme
        self.mark: RouteMark | None = None
        self.fresh: Callable[[], RouteMark | None] | None = None
        """The mark now (its round trip changes while it is shown)."""
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        self.icon = QLabel(self)
        self.text = QLabel(self)
        row.addWidget(self.icon)
        row.addWidget(self.text)
        self.hide()

    def show_mark(self, mark: RouteMark | None) -> None:
        """Show `mark` (None: hide)."""
        self.mark = mark
        if mark is None:
            self.hide()
            return
        colour = mark_colour(mark, self.theme)
        self.icon.setPixmap(icons.pixmap(mark.icon, ICON, colour))
        self.text.setText(mark.label)
        self.text.setFont(_font(self.font()))
        self.text.setStyleSheet(f"color: {colour};")
        self.setToolTip(mark.tooltip)
        self.show()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and self.mark is not None and isinstance(e, QHelpEvent):
            now = self.fresh() if self.fresh is not None else None
            QToolTip.showText(e.globalPos(), (now or self.mark).tooltip, self)
            return True
        return super().event(e)
