"""The left side: the room rail (rooms and direct rooms with badges) and the channel list of the selected room."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from app.models import Channel

from ..state.session import RoomSummary
from ..theme import DARK, Theme
from .message_delegate import author_colour, initials

ROOM_ROLE = Qt.ItemDataRole.UserRole + 1
ICON = 48


def paint_badge(p: QPainter, x: int, y: int, count: int, colour: QColor) -> None:
    """A red pill with a number, as unread mention counters look everywhere."""
    text = "99+" if count > 99 else str(count)
    f = QFont()
    f.setPointSizeF(7.5)
    f.setBold(True)
    p.setFont(f)
    w = max(18, p.fontMetrics().horizontalAdvance(text) + 10)
    r = QRectF(x - w, y, w, 18)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    p.drawRoundedRect(r, 9, 9)
    p.setPen(QColor("white"))
    p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)


class RailDelegate(QStyledItemDelegate):
    """A round room icon with an unread pip and a mention badge."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.theme = theme

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(72, ICON + 10)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        s: RoomSummary = index.data(ROOM_ROLE)
        rect: QRect = option.rect  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = rect.x() + (rect.width() - ICON) // 2
        y = rect.y() + 5
        icon = QRectF(x, y, ICON, ICON)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.theme.accent) if selected else author_colour(s.name) if s.direct else QColor(self.theme.sidebar))
        p.drawRoundedRect(icon, 16 if selected else ICON / 2, 16 if selected else ICON / 2)
        f = QFont()
        f.setBold(True)
        f.setPointSizeF(11)
        p.setFont(f)
        p.setPen(QColor("white") if selected or s.direct else QColor(self.theme.text))
        p.drawText(icon, Qt.AlignmentFlag.AlignCenter, initials(s.name))
        if selected or s.unread:
            p.setBrush(QColor(self.theme.text))
            p.setPen(Qt.PenStyle.NoPen)
            h = 36 if selected else 8
            p.drawRoundedRect(QRectF(rect.x() - 4, y + (ICON - h) / 2, 8, h), 4, 4)
        if s.mentions:
            paint_badge(p, x + ICON + 4, y + ICON - 16, s.mentions, QColor(self.theme.danger))
        p.restore()


class RoomRail(QFrame):
    """The narrow column of rooms, with create, join and browse buttons."""

    room_chosen = Signal(bytes)
    create_clicked = Signal()
    join_clicked = Signal()
    browse_clicked = Signal()

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Rail")
        self.setFixedWidth(72)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 8)
        self.list = QListWidget(self)
        self.list.setObjectName("RoomList")
        self.delegate = RailDelegate(theme)
        self.list.setItemDelegate(self.delegate)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentItemChanged.connect(self._chosen)
        layout.addWidget(self.list, 1)
        for text, tip, sig in (("+", "Create a room", self.create_clicked), ("⇲", "Join from an invite link", self.join_clicked),
                               ("🧭", "Browse public rooms on the LAN", self.browse_clicked)):
            b = QToolButton(self)
            b.setText(text)
            b.setToolTip(tip)
            b.setFixedSize(ICON, ICON)
            b.setStyleSheet(f"QToolButton {{ background: {theme.sidebar}; border-radius: 24px; color: {theme.online}; font-size: 18pt; }}"
                            f"QToolButton:hover {{ background: {theme.online}; color: white; }}")
            b.clicked.connect(sig)
            layout.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        self._updating = False

    def set_rooms(self, rooms: list[RoomSummary], current: bytes | None) -> None:
        self._updating = True
        self.list.clear()
        for s in sorted(rooms, key=lambda r: r.direct):
            item = QListWidgetItem()
            item.setData(ROOM_ROLE, s)
            item.setToolTip(("Direct: " if s.direct else "") + s.name + (f" — {s.unread} unread" if s.unread else ""))
            self.list.addItem(item)
            if s.room_id == current:
                self.list.setCurrentItem(item)
        self._updating = False

    def _chosen(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is not None and not self._updating:
            self.room_chosen.emit(item.data(ROOM_ROLE).room_id)


class ChannelPanel(QFrame):
    """The selected room's channels grouped by category (text first, then voice), under the room's name."""

    channel_chosen = Signal(str)
    room_menu_clicked = Signal()
    settings_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Sidebar")
        self.setFixedWidth(240)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QFrame(self)
        header.setObjectName("RoomHeader")
        header.setFixedHeight(48)
        hl = QHBoxLayout(header)
        hl.setContentsMargins(16, 0, 8, 0)
        self.title = QLabel("Hubbub", header)
        self.title.setObjectName("HeaderTitle")
        self.menu_button = QToolButton(header)
        self.menu_button.setText("⌄")
        self.menu_button.setToolTip("Room menu: invite, settings, export")
        self.menu_button.clicked.connect(self.room_menu_clicked)
        hl.addWidget(self.title, 1)
        hl.addWidget(self.menu_button)
        layout.addWidget(header)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(0)
        self.tree.setRootIsDecorated(False)
        self.tree.itemClicked.connect(self._clicked)
        layout.addWidget(self.tree, 1)
        self.user_bar = QFrame(self)
        self.user_bar.setObjectName("UserBar")
        self.user_bar.setFixedHeight(52)
        ul = QHBoxLayout(self.user_bar)
        ul.setContentsMargins(10, 0, 6, 0)
        self.me_label = QLabel(self.user_bar)
        self.settings_button = QToolButton(self.user_bar)
        self.settings_button.setText("⚙")
        self.settings_button.setToolTip("Preferences: display name and theme")
        self.settings_button.clicked.connect(self.settings_clicked)
        ul.addWidget(self.me_label, 1)
        ul.addWidget(self.settings_button)
        layout.addWidget(self.user_bar)
        self._items: dict[str, QTreeWidgetItem] = {}

    def set_me(self, name: str, short: str, status: str) -> None:
        self.me_label.setText(f"<b>{name}</b><br><span style='font-size:8pt'>● {status} · {short}</span>")

    def set_room(self, title: str, channels: list[Channel], unread: dict[str, tuple[int, int]], current: str | None) -> None:
        self.title.setText(title)
        self.tree.clear()
        self._items = {}
        groups: dict[str, QTreeWidgetItem] = {}
        for c in channels:
            label = (c.category or ("Text channels" if c.kind == "text" else "Voice channels")).upper()
            key = f"{c.kind}:{label}"
            group = groups.get(key)
            if group is None:
                group = QTreeWidgetItem(self.tree, [label])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                f = group.font(0)
                f.setPointSizeF(8)
                f.setBold(True)
                group.setFont(0, f)
                group.setSizeHint(0, QSize(200, 34))
                groups[key] = group
            count, mentions = unread.get(c.id, (0, 0))
            prefix = "#  " if c.kind == "text" else "🔊  "
            text = prefix + c.name + (f"   ({mentions} @)" if mentions else "")
            item = QTreeWidgetItem(group, [text])
            item.setData(0, Qt.ItemDataRole.UserRole, c.id)
            item.setToolTip(0, c.topic or c.name)
            item.setSizeHint(0, QSize(200, 32))
            if count and c.id != current:
                f = item.font(0)
                f.setBold(True)
                item.setFont(0, f)
                item.setForeground(0, QColor("#f2f3f5"))
            if c.kind != "text":
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._items[c.id] = item
        self.tree.expandAll()
        if current in self._items:
            self.tree.setCurrentItem(self._items[current])

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        cid = item.data(0, Qt.ItemDataRole.UserRole)
        if cid:
            self.channel_chosen.emit(str(cid))
