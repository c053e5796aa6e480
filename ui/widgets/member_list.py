"""The member list: members grouped by role, each with a presence dot and, with a session, how it runs (LAN, internet, TURN)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal

from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.room import MemberInfo

from ..services import IDLE, ONLINE
from ..theme import Theme
from ..colours import author_colour, initials, text_on
from ..state.routes import RouteMark, SessionLike, member_routes
from .attachment_paint import paint_round
from .route_mark import ROUTE_ROLE, Index, RouteDelegate

KEY_ROLE = Qt.ItemDataRole.UserRole + 1


def avatar_icon(name: str, short: str, status: str, theme: Theme, size: int = 32, picture: QImage | None = None) -> QIcon:
    """A round avatar (their picture, or their initials) with a presence dot (green online, yellow idle, grey offline)."""
    pix = QPixmap(size + 4, size + 4)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    if picture is not None:
        paint_round(p, QRectF(0, 0, size, size), picture)
    else:
        colour = author_colour(short)
        p.setBrush(colour)
        p.drawEllipse(QRectF(0, 0, size, size))
        f = QFont()
        f.setBold(True)
        f.setPointSizeF(8.5)
        p.setFont(f)
        p.setPen(text_on(colour))
        p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initials(name))
    dot = theme.online if status == ONLINE else "#f0b232" if status == IDLE else theme.faint
    p.setBrush(QColor(theme.sidebar))
    p.drawEllipse(QRectF(size - 10, size - 10, 14, 14))
    p.setBrush(QColor(dot))
    p.drawEllipse(QRectF(size - 7, size - 7, 8, 8))
    p.end()
    return QIcon(pix)


class MemberList(QFrame):
    """The toggleable right pane; right-click on a member asks for their menu (call, volume)."""

    member_menu_requested = Signal(bytes, QPoint)  # member key, global position

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.avatar_for: Callable[[str], QImage | None] | None = None  # a member's avatar, by short id
        self.sessions: Callable[[], Mapping[bytes, SessionLike]] | None = None  # the node's sessions, for the route marks
        self.marks: dict[bytes, RouteMark] = {}  # member key -> the route mark drawn in their row
        self.setObjectName("MemberPane")
        self.setFixedWidth(240)
        self.theme = theme
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 12, 8, 8)
        self.list = QListWidget(self)
        self.list.setIconSize(QSize(36, 36))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.setItemDelegate(RouteDelegate(theme, self._mark_at, self._fresh_mark_at, self.list))
        layout.addWidget(self.list)

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        key = item.data(KEY_ROLE) if item is not None else None
        if isinstance(key, bytes):
            self.member_menu_requested.emit(key, self.list.viewport().mapToGlobal(pos))

    def _mark_at(self, index: Index) -> RouteMark | None:
        key = index.data(KEY_ROLE)
        return self.marks.get(key) if isinstance(key, bytes) else None

    def _fresh_mark_at(self, index: Index) -> RouteMark | None:
        key = index.data(KEY_ROLE)
        if not isinstance(key, bytes) or key not in self.marks:
            return None
        return member_routes(self.sessions(), [key]).get(key) if self.sessions is not None else self.marks[key]

    def set_members(self, members: list[MemberInfo], presence: dict[str, str], direct: bool = False,
                    routes: Mapping[bytes, RouteMark] | None = None) -> None:
        """List members by role (then online and offline); in a direct room just the two people, without roles.

        Each member we have a session with gets a route mark, from `routes` or else from `sessions`."""
        self.list.clear()
        if routes is None and self.sessions is not None:
            routes = member_routes(self.sessions(), [m.key for m in members])
        self.marks = dict(routes or {})
        groups: dict[str, list[MemberInfo]] = {}
        rank: dict[str, int] = {"Online": 1, "Offline": 0, "In this conversation": 0}
        for m in members:
            status = presence.get(m.short, "offline")
            if direct:
                label = "In this conversation"
            else:
                label = m.role.name.capitalize() + "s" if int(m.role) > 1 else ("Online" if status != "offline" else "Offline")
            rank[label] = int(m.role) + 1 if int(m.role) > 1 else rank[label]
            groups.setdefault(label, []).append(m)
        order = sorted(groups, key=lambda g: -rank[g])
        for label in order:
            head = QListWidgetItem(f"{label.upper()} — {len(groups[label])}")
            head.setFlags(Qt.ItemFlag.NoItemFlags)
            f = head.font()
            f.setPointSizeF(8)
            f.setBold(True)
            head.setFont(f)
            head.setForeground(QColor(self.theme.muted))
            self.list.addItem(head)
            for m in groups[label]:
                status = presence.get(m.short, "offline")
                picture = self.avatar_for(m.short) if self.avatar_for is not None else None
                item = QListWidgetItem(avatar_icon(m.name, m.short, status, self.theme, picture=picture), m.name)
                tip = f"{m.name} · {m.short} · {status}" if direct else f"{m.name} · {m.short} · {m.role.name.lower()} · {status}"
                mark = self.marks.get(m.key)
                item.setToolTip(tip if mark is None else f"{tip}\n{mark.tooltip}")
                item.setData(KEY_ROLE, m.key)
                item.setData(ROUTE_ROLE, None if mark is None else mark.route)
                if status == "offline":
                    item.setForeground(QColor(self.theme.faint))
                else:
                    item.setForeground(QColor(self.theme.text))
                self.list.addItem(item)
