"""The left side: the room rail (rooms and direct rooms with badges) and the channel list of the selected room."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QToolButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from app.models import Channel

from .. import icons
from ..state.session import RoomSummary
from ..state.voice import VoiceParticipant
from ..theme import DARK, Theme
from ..colours import author_colour, initials, text_on
from .attachment_paint import paint_round
from .route_mark import ICON as MARK_ICON, paint_badge_mark

ROOM_ROLE = Qt.ItemDataRole.UserRole + 1
VOICE_ROLE = Qt.ItemDataRole.UserRole + 2
PERSON_ROLE = Qt.ItemDataRole.UserRole + 3
SPEAKING_ROLE = Qt.ItemDataRole.UserRole + 4
SECTION_ROLE = Qt.ItemDataRole.UserRole + 5  # a section heading in the rail ("DMs")
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


def route_spot(rect: QRect) -> tuple[int, int]:
    """Where a DM's route mark goes in its rail row: on the bottom left of the round icon."""
    x = rect.x() + (rect.width() - ICON) // 2
    return x - 4, rect.y() + 5 + ICON - (MARK_ICON + 6) + 2


class RailDelegate(QStyledItemDelegate):
    """A round room icon with an unread pip and a mention badge; a direct room counts every unread message.
    Section headings (the line above the direct messages) are painted small."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.theme = theme
        self.icon_for: Callable[[bytes], QImage | None] | None = None  # a room's icon picture, by room id

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(72, 24) if index.data(SECTION_ROLE) else QSize(72, ICON + 10)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        section = index.data(SECTION_ROLE)
        if section:
            self._paint_section(p, option.rect, str(section))  # type: ignore[attr-defined]
            return
        s: RoomSummary = index.data(ROOM_ROLE)
        rect: QRect = option.rect  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = rect.x() + (rect.width() - ICON) // 2
        y = rect.y() + 5
        icon = QRectF(x, y, ICON, ICON)
        picture = self.icon_for(s.room_id) if self.icon_for is not None and not s.direct else None
        if picture is not None:
            paint_round(p, icon, picture, 16 if selected else ICON / 2)
        p.setPen(Qt.PenStyle.NoPen)
        if picture is None:
            # a direct room wears the other person's colour, as their avatar does everywhere else
            fill = author_colour(s.peer) if s.direct else QColor(self.theme.accent) if selected else QColor(self.theme.sidebar)
            p.setBrush(fill)
            p.drawRoundedRect(icon, 16 if selected else ICON / 2, 16 if selected else ICON / 2)
            f = QFont()
            f.setBold(True)
            f.setPointSizeF(11)
            p.setFont(f)
            p.setPen(text_on(fill) if selected or s.direct else QColor(self.theme.text))
            p.drawText(icon, Qt.AlignmentFlag.AlignCenter, initials(s.name))
        if selected or s.unread:
            p.setBrush(QColor(self.theme.text))
            p.setPen(Qt.PenStyle.NoPen)
            h = 36 if selected else 8
            p.drawRoundedRect(QRectF(rect.x() - 4, y + (ICON - h) / 2, 8, h), 4, 4)
        badge = s.unread if s.direct else s.mentions
        if badge:
            paint_badge(p, x + ICON + 4, y + ICON - 16, badge, QColor(self.theme.danger))
        p.restore()
        if s.route is not None:  # a DM: how our session with the person runs, at the foot of their icon
            paint_badge_mark(p, s.route, *route_spot(rect), self.theme)

    def _paint_section(self, p: QPainter, rect: QRect, text: str) -> None:
        p.save()
        p.setPen(QColor(self.theme.muted))
        p.drawLine(rect.x() + 20, rect.y() + 4, rect.right() - 20, rect.y() + 4)
        f = QFont()
        f.setPointSizeF(7)
        f.setBold(True)
        p.setFont(f)
        p.drawText(QRect(rect.x(), rect.y() + 6, rect.width(), rect.height() - 6), Qt.AlignmentFlag.AlignCenter, text)
        p.restore()


class RoomRail(QFrame):
    """The narrow column of rooms, then direct messages under their own heading, with create, join and browse buttons."""

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
        self.buttons: list[QToolButton] = []
        for name, tip, sig in (("add", "Create a room", self.create_clicked), ("join", "Join from an invite link", self.join_clicked),
                               ("browse", "Browse public rooms on the LAN", self.browse_clicked)):
            b = QToolButton(self)
            b.setObjectName(name)
            b.setToolTip(tip)
            b.setFixedSize(ICON, ICON)
            b.setIconSize(QSize(26, 26))
            b.clicked.connect(sig)
            layout.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
            self.buttons.append(b)
        self.set_theme(theme)
        self._updating = False

    def set_theme(self, theme: Theme) -> None:
        """The round buttons under the rooms, in the theme's colours (the rail itself follows the style sheet)."""
        self.delegate.theme = theme
        for b in self.buttons:
            icons.put(b, b.objectName(), colour=theme.online)
            b.setStyleSheet(f"QToolButton {{ background: {theme.sidebar}; border-radius: 24px; }}"
                            f"QToolButton:hover {{ background: {theme.selected}; }}")

    def set_rooms(self, rooms: list[RoomSummary], current: bytes | None) -> None:
        self._updating = True
        self.list.clear()
        heading = False
        for s in sorted(rooms, key=lambda r: r.direct):
            if s.direct and not heading:
                heading = True
                head = QListWidgetItem()
                head.setData(SECTION_ROLE, "DMs")
                head.setFlags(Qt.ItemFlag.NoItemFlags)
                head.setToolTip("Direct messages")
                self.list.addItem(head)
            item = QListWidgetItem()
            item.setData(ROOM_ROLE, s)
            tip = ("Direct: " if s.direct else "") + s.name + (f" — {s.unread} unread" if s.unread else "")
            item.setToolTip(tip if s.route is None else f"{tip}\n{s.route.tooltip}")
            self.list.addItem(item)
            if s.room_id == current:
                self.list.setCurrentItem(item)
        self._updating = False

    def _chosen(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is not None and not self._updating and item.data(ROOM_ROLE) is not None:
            self.room_chosen.emit(item.data(ROOM_ROLE).room_id)


class ChannelPanel(QFrame):
    """The selected room's channels grouped by category (text first, then voice), under the room's name."""

    channel_chosen = Signal(str)
    channel_menu_requested = Signal(str, QPoint)  # a text channel's right-click: its id, where (global)
    voice_chosen = Signal(str)  # a voice channel was clicked: join it, or leave it
    room_menu_clicked = Signal()
    settings_clicked = Signal()
    mute_toggled = Signal(bool)
    deafen_toggled = Signal(bool)

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
        icons.put(self.menu_button, "menu")
        self.menu_button.setToolTip("Room menu: invite, settings, export")
        self.menu_button.clicked.connect(self.room_menu_clicked)
        hl.addWidget(self.title, 1)
        hl.addWidget(self.menu_button)
        layout.addWidget(header)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(12)
        self.tree.setRootIsDecorated(False)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        layout.addWidget(self.tree, 1)
        self.voice_bar = VoiceBar(self)
        self.voice_bar.hide()
        layout.addWidget(self.voice_bar)
        self.user_bar = QFrame(self)
        self.user_bar.setObjectName("UserBar")
        self.user_bar.setFixedHeight(52)
        ul = QHBoxLayout(self.user_bar)
        ul.setContentsMargins(10, 0, 6, 0)
        self.me_label = QLabel(self.user_bar)
        self.settings_button = QToolButton(self.user_bar)
        icons.put(self.settings_button, "settings")
        self.settings_button.setToolTip("Preferences: display name and theme")
        self.settings_button.clicked.connect(self.settings_clicked)
        self.mute_button = QToolButton(self.user_bar)
        self.mute_button.setCheckable(True)
        icons.put(self.mute_button, "mic", on="mic_off")
        self.mute_button.setToolTip("Mute my microphone")
        self.mute_button.toggled.connect(self.mute_toggled)
        self.deafen_button = QToolButton(self.user_bar)
        self.deafen_button.setCheckable(True)
        icons.put(self.deafen_button, "headphones", on="headphones_off")
        self.deafen_button.setToolTip("Deafen: hear nobody (also mutes)")
        self.deafen_button.toggled.connect(self.deafen_toggled)
        ul.addWidget(self.me_label, 1)
        ul.addWidget(self.mute_button)
        ul.addWidget(self.deafen_button)
        ul.addWidget(self.settings_button)
        layout.addWidget(self.user_bar)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._voice_items: dict[str, QTreeWidgetItem] = {}  # short id -> participant row
        self._voice_people: dict[str, VoiceParticipant] = {}
        self._name_of: Callable[[str], str] = lambda s: s
        self.speaking_colour = QColor("#23a55a")
        self.unread_colour = DARK.text

    def set_theme(self, theme: Theme) -> None:
        self.unread_colour = theme.text

    def set_voice_flags(self, muted: bool, deafened: bool) -> None:
        """Show my mute and deafen state on the buttons without re-emitting it."""
        pairs = [(self.mute_button, muted, "Mute my microphone", "Unmute")] if self.mute_button.isEnabled() else []
        for button, on, off_tip, on_tip in (*pairs,
                                            (self.deafen_button, deafened, "Deafen: hear nobody (also mutes)", "Undeafen")):
            button.blockSignals(True)
            button.setChecked(on)
            button.setToolTip(on_tip if on else off_tip)
            button.blockSignals(False)

    def set_mic_available(self, available: bool, why: str = "") -> None:
        """Show the microphone as unavailable (listen-only: no input device) or give the mute button back."""
        if available == self.mute_button.isEnabled():
            return
        self.mute_button.setEnabled(available)
        if available:
            icons.put(self.mute_button, "mic", on="mic_off")
            self.mute_button.setToolTip("Mute my microphone")
        else:
            icons.put(self.mute_button, "no_mic")
            self.mute_button.setToolTip(why or "No microphone")

    def set_me(self, name: str, short: str, status: str) -> None:
        self.me_label.setText(f"<b>{name}</b><br><span style='font-size:8pt'>● {status} · {short}</span>")

    def set_room(self, title: str, channels: list[Channel], unread: dict[str, tuple[int, int]], current: str | None,
                 voice: dict[str, list[VoiceParticipant]] | None = None, name_of: Callable[[str], str] | None = None,
                 my_voice: str | None = None, person: tuple[str, QIcon] | None = None) -> None:
        """Show a room's channels; in a direct room (`person`: the other's name and avatar) just the conversation."""
        self.title.setText(title)
        if person is not None:  # a DM has no channels to speak of: no voice channel, no categories
            channels = [c for c in channels if c.kind == "text"][:1]
        self.tree.clear()
        self._items = {}
        self._voice_items = {}
        self._voice_people = {}
        if name_of is not None:
            self._name_of = name_of
        groups: dict[str, QTreeWidgetItem] = {}
        for c in channels:
            label = "DIRECT MESSAGE" if person else (c.category or ("Text channels" if c.kind == "text" else "Voice channels")).upper()
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
            text = (person[0] if person else c.name) + (f"   ({mentions} @)" if mentions else "")
            item = QTreeWidgetItem(group, [text])
            item.setIcon(0, person[1] if person else icons.icon("text" if c.kind == "text" else "voice"))
            item.setData(0, Qt.ItemDataRole.UserRole, c.id)
            item.setToolTip(0, c.topic or c.name)
            item.setSizeHint(0, QSize(200, 32))
            if count and c.id != current:
                f = item.font(0)
                f.setBold(True)
                item.setFont(0, f)
                item.setForeground(0, QColor(self.unread_colour))
            if c.kind != "text":
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                item.setData(0, VOICE_ROLE, True)
                item.setToolTip(0, ("Click to leave " if c.id == my_voice else "Click to join ") + c.name)
                if c.id == my_voice:
                    item.setForeground(0, self.speaking_colour)
                for someone in (voice or {}).get(c.id, []):
                    self._add_participant(item, someone)
            self._items[c.id] = item
        self.tree.expandAll()
        if current in self._items:
            self.tree.setCurrentItem(self._items[current])

    def _add_participant(self, channel_item: QTreeWidgetItem, person: VoiceParticipant) -> None:
        row = QTreeWidgetItem(channel_item, [""])
        row.setFlags(Qt.ItemFlag.ItemIsEnabled)
        row.setSizeHint(0, QSize(200, 26))
        row.setData(0, PERSON_ROLE, person.short)
        self._voice_items[person.short] = row
        self._voice_people[person.short] = person
        self._paint_participant(person.short, person.speaking)

    def _paint_participant(self, short: str, speaking: bool) -> None:
        row, person = self._voice_items[short], self._voice_people[short]
        mark = "headphones_off" if person.deafened else "mic_off" if person.muted else "speaking" if speaking else "quiet"
        row.setText(0, self._name_of(short))
        row.setIcon(0, icons.icon(mark, self.speaking_colour.name() if speaking else "#949ba4"))
        row.setToolTip(0, "deafened" if person.deafened else "muted" if person.muted else "speaking" if speaking else "in the channel")
        row.setData(0, SPEAKING_ROLE, speaking)
        row.setForeground(0, self.speaking_colour if speaking else QColor("#949ba4"))
        f = row.font(0)
        f.setBold(speaking)
        row.setFont(0, f)

    def set_speaking(self, short: str, speaking: bool) -> None:
        """Light (or dim) one participant's speaking indicator without rebuilding the tree."""
        if short in self._voice_items:
            self._paint_participant(short, speaking)

    def speaking_now(self) -> list[str]:
        """Short ids whose speaking indicator is lit (tests read this)."""
        return [s for s, row in self._voice_items.items() if row.data(0, SPEAKING_ROLE)]

    def voice_people(self, channel: str) -> list[str]:
        """Short ids listed under a voice channel."""
        item = self._items.get(channel)
        if item is None:
            return []
        rows = [item.child(i) for i in range(item.childCount())]
        return [str(row.data(0, PERSON_ROLE)) for row in rows if row is not None]

    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        cid = item.data(0, Qt.ItemDataRole.UserRole)
        if cid and not item.data(0, VOICE_ROLE):
            self.channel_menu_requested.emit(str(cid), self.tree.viewport().mapToGlobal(pos))

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        cid = item.data(0, Qt.ItemDataRole.UserRole)
        if cid and item.data(0, VOICE_ROLE):
            self.voice_chosen.emit(str(cid))
        elif cid:
            self.channel_chosen.emit(str(cid))


class VoiceBar(QFrame):
    """Above my name: where my voice is (a channel, a call, a ringing call) with its buttons."""

    leave_clicked = Signal()
    accept_clicked = Signal()
    decline_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VoiceBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.accept = QPushButton("Accept", self)
        self.accept.setObjectName("Primary")
        self.accept.clicked.connect(self.accept_clicked)
        self.decline = QPushButton("Decline", self)
        self.decline.clicked.connect(self.decline_clicked)
        self.leave = QToolButton(self)
        icons.put(self.leave, "hang_up", colour="#f23f43")
        self.leave.clicked.connect(self.leave_clicked)
        for w in (self.accept, self.decline, self.leave):
            lay.addWidget(w)

    def show_state(self, text: str, ringing_in: bool = False, leave_tip: str = "Leave") -> None:
        """Show `text` (empty hides the bar); a ringing call offers Accept and Decline instead of Leave."""
        self.setVisible(bool(text))
        self.label.setText(text)
        self.accept.setVisible(ringing_in)
        self.decline.setVisible(ringing_in)
        self.leave.setVisible(not ringing_in)
        self.leave.setToolTip(leave_tip)
