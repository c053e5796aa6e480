"""The main window: rail, channels, messages with composer, member list; menus, shortcuts, tray and notifications."""

from __future__ import annotations

import gc
import time
from functools import partial

from PySide6.QtCore import QEvent, QObject, QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import (QCloseEvent, QColor, QFont, QGuiApplication, QIcon, QKeyEvent, QKeySequence, QPainter,
                           QPixmap, QShortcut)
from PySide6.QtWidgets import (QApplication, QFrame, QHBoxLayout, QLabel, QMainWindow, QMenu, QMessageBox, QPushButton,
                               QSlider, QStackedWidget, QSystemTrayIcon, QToolButton, QVBoxLayout, QWidget, QWidgetAction)

from app.errors import HubbubError
from app.models import Message, Role, short_id
from app.room import Room

from ..services import ONLINE
from ..state.composer import ComposerState, Completion, last_own_message
from ..state.session import Session
from ..state.switcher import Target
from ..state.voice import DEFAULT_PTT_KEY, PTT_KEY, PTT_ON, VoiceState
from ..tasks import spawn
from ..theme import THEMES, Theme, apply_theme
from .composer import Composer
from .file_wiring import FileWiring
from .dialogs import InviteDialog, JoinDialog, NameDialog, PreferencesDialog, QuickSwitcher, RoomBrowser
from .emoji_picker import EmojiPicker
from .export_dialog import ExportDialog
from .member_list import MemberList
from .message_delegate import MessageDelegate
from .message_model import MessageModel, one_line
from .message_view import MessageView
from .room_settings import RoomSettingsDialog
from .sidebar import ChannelPanel, RoomRail
from .voice_settings import VoiceSettings

QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀", "🔥"]
ACTIVITY = frozenset((QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel))
ACTIVITY_EVERY = 5.0  # seconds: key and mouse activity is reported to the node at most this often


def app_icon(unread: int = 0) -> QIcon:
    """The Hubbub icon (a speech bubble), with the unread count painted on it for the tray."""
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


class MainWindow(QMainWindow):
    """The Hubbub window over one session."""

    def __init__(self, session: Session, settings: QSettings | None = None) -> None:
        super().__init__()
        self.session = session
        self.node = session.node
        self.settings = settings
        self._active_at = 0.0
        self._browser: RoomBrowser | None = None
        self.composer_state = ComposerState()
        self.voice = VoiceState(session.live)
        self._ptt_key = QKeySequence(str(self.node.profile.settings.get(PTT_KEY, DEFAULT_PTT_KEY)))
        self.theme: Theme = THEMES.get(str(self.node.profile.settings.get("ui_theme", "dark")), THEMES["dark"])
        self.setWindowTitle("Hubbub")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.setMinimumSize(900, 560)
        root = QWidget(self)
        self.setCentralWidget(root)
        lay = QHBoxLayout(root)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.rail = RoomRail(self.theme, root)
        self.channels = ChannelPanel(root)
        lay.addWidget(self.rail)
        lay.addWidget(self.channels)
        self.stack = QStackedWidget(root)
        lay.addWidget(self.stack, 1)
        self.empty = self._empty_state()
        self.stack.addWidget(self.empty)
        chat = QFrame()
        chat.setObjectName("Chat")
        cl = QVBoxLayout(chat)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self._chat_header())
        self.model = MessageModel(session.me)
        self.delegate = MessageDelegate(theme=self.theme)
        self.delegate.me = session.me
        self.view = MessageView(self.model, self.delegate, chat)
        cl.addWidget(self.view, 1)
        self.composer = Composer(self.composer_state, chat)
        cl.addWidget(self.composer)
        self.typing_line = QLabel(" ", chat)
        self.typing_line.setObjectName("TypingLine")
        self.typing_line.setContentsMargins(20, 0, 0, 4)
        self.typing_line.setFixedHeight(22)
        cl.addWidget(self.typing_line)
        self.stack.addWidget(chat)
        self.chat = chat
        self.members = MemberList(self.theme, root)
        lay.addWidget(self.members)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("Hubbub")
            self.tray.activated.connect(self._bring_to_front)
            self.tray.show()
        self._wire()
        self.files = FileWiring(self, self)  # attach, drop, paste, previews, Save as… / Open (ui/widgets/file_wiring.py)
        self._shortcuts()
        self._restore()
        self.refresh_rooms()
        self.channels.set_me(self.node.profile.display_name, session.me, "Online")
        self._typing_sent = 0.0

    def _bring_to_front(self, *_: object) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # ----- building ------------------------------------------------------------------------------

    def _empty_state(self) -> QWidget:
        w = QFrame()
        w.setObjectName("Chat")
        lay = QVBoxLayout(w)
        lay.addStretch(1)
        label = QLabel("<div style='font-size:20pt; font-weight:700'>Welcome to Hubbub</div>"
                       "<div style='margin-top:10px; font-size:11pt'>You are not in any room yet.<br>"
                       "Create a room for your group, or join one with an invite link someone sent you.</div>")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.empty_create = QPushButton("Create a room")
        self.empty_create.setObjectName("Primary")
        self.empty_create.clicked.connect(self.create_room)
        self.empty_join = QPushButton("Join with a link")
        self.empty_join.clicked.connect(self.join_room)
        row.addWidget(self.empty_create)
        row.addWidget(self.empty_join)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(2)
        return w

    def _chat_header(self) -> QWidget:
        head = QFrame()
        head.setObjectName("ChatHeader")
        head.setFixedHeight(48)
        hl = QHBoxLayout(head)
        hl.setContentsMargins(16, 0, 8, 0)
        self.header_title = QLabel()
        self.header_title.setObjectName("HeaderTitle")
        self.header_topic = QLabel()
        self.header_topic.setObjectName("HeaderTopic")
        hl.addWidget(self.header_title)
        hl.addSpacing(12)
        hl.addWidget(self.header_topic, 1)
        self.pins_button = QToolButton()
        self.pins_button.setText("📌")
        self.pins_button.setToolTip("Pinned messages")
        self.pins_button.clicked.connect(self.show_pins)
        self.invite_button = QToolButton()
        self.invite_button.setText("➕👤")
        self.invite_button.setToolTip("Invite people")
        self.invite_button.clicked.connect(self.invite)
        self.members_button = QToolButton()
        self.members_button.setText("👥")
        self.members_button.setCheckable(True)
        self.members_button.setChecked(True)
        self.members_button.setToolTip("Show or hide the member list")
        self.members_button.toggled.connect(self.toggle_members)
        for b in (self.pins_button, self.invite_button, self.members_button):
            hl.addWidget(b)
        return head

    def _wire(self) -> None:
        s = self.session
        s.room_selected.connect(self._on_room)
        s.channel_selected.connect(self._on_channel)
        s.room_updated.connect(self._on_updated)
        s.unread_changed.connect(self._on_unread)
        s.rooms_changed.connect(self.refresh_rooms)
        s.notification.connect(self.notify)
        s.live_changed.connect(self._on_live)
        self.rail.room_chosen.connect(s.select_room)
        self.rail.create_clicked.connect(self.create_room)
        self.rail.join_clicked.connect(self.join_room)
        self.rail.browse_clicked.connect(self.browse_rooms)
        self.channels.channel_chosen.connect(s.select_channel)
        self.channels.room_menu_clicked.connect(self.room_menu)
        self.channels.settings_clicked.connect(self.preferences)
        self.composer.submitted.connect(self.submit)
        self.composer.edit_last_requested.connect(self.edit_last)
        self.composer.typing.connect(self._typing)
        self.composer_state.error.connect(self.show_error)
        self.view.reaction_clicked.connect(self.toggle_reaction)
        self.view.reply_clicked.connect(self.view.jump_to)
        self.view.context_requested.connect(self.context_menu)
        self.view.verticalScrollBar().valueChanged.connect(self._maybe_read)
        v = self.voice
        v.participants_changed.connect(self._on_voice_participants)
        v.speaking_changed.connect(self.channels.set_speaking)
        v.state_changed.connect(self._on_voice_state)
        v.call_changed.connect(self._on_call)
        v.missed_call.connect(lambda short: self.notify("Missed call", f"{self._name(short)} called you."))
        self.channels.voice_chosen.connect(self.click_voice_channel)
        self.channels.mute_toggled.connect(lambda on: self._voice_do(v.set_muted, on))
        self.channels.deafen_toggled.connect(lambda on: self._voice_do(v.set_deafened, on))
        self.channels.voice_bar.leave_clicked.connect(self.leave_voice)
        self.channels.voice_bar.accept_clicked.connect(lambda: self._voice_do(v.accept))
        self.channels.voice_bar.decline_clicked.connect(lambda: self._voice_do(v.decline))
        self.members.member_menu_requested.connect(self.member_menu)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.voice.set_push_to_talk(bool(self.node.profile.settings.get(PTT_ON, False)))

    def _shortcuts(self) -> None:
        QShortcut(QKeySequence("Ctrl+K"), self, self.quick_switcher)
        QShortcut(QKeySequence("Alt+Up"), self, lambda: self.session.step_channel(-1))
        QShortcut(QKeySequence("Alt+Down"), self, lambda: self.session.step_channel(1))
        QShortcut(QKeySequence("Esc"), self, self.composer_state.cancel)
        QShortcut(QKeySequence("Ctrl+Shift+M"), self, self.members_button.toggle)

    # ----- window state ------------------------------------------------------------------------------

    def _restore(self) -> None:
        if self.settings is None:
            return
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        shown = self.settings.value("members", True)
        self.members_button.setChecked(str(shown).lower() not in ("false", "0"))

    def closeEvent(self, e: QCloseEvent) -> None:
        if self.settings is not None:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("members", self.members_button.isChecked())
            self.settings.sync()
        self.session.save()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(e)

    def changeEvent(self, e: object) -> None:
        super().changeEvent(e)  # type: ignore[arg-type]
        self.session.focused = self.isActiveWindow()
        if self.session.focused:
            self._maybe_read()

    def set_theme(self, name: str) -> None:
        self.theme = THEMES[name]
        self.node.profile.settings["ui_theme"] = name
        self.node.profile.save_settings()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.theme)
        self.delegate.set_theme(self.theme)
        self.rail.delegate.theme = self.theme
        self.members.theme = self.theme
        self.view.viewport().update()
        self._refresh_members()

    # ----- rooms and channels ----------------------------------------------------------------------

    def refresh_rooms(self) -> None:
        s = self.session
        rooms = s.summaries()
        self.rail.set_rooms(rooms, s.room.id if s.room else None)
        self.stack.setCurrentWidget(self.chat if s.room is not None else self.empty)
        total = sum(r.unread for r in rooms)
        if self.tray is not None:
            self.tray.setIcon(app_icon(total))
            self.tray.setToolTip(f"Hubbub — {total} unread" if total else "Hubbub")
        self.setWindowTitle(f"({total}) Hubbub" if total else "Hubbub")

    def _on_room(self, room: Room | None) -> None:
        self.composer_state.cancel()
        self.refresh_rooms()
        if room is None:
            return
        self.composer.members = [Completion(m.name if " " not in m.name else m.short, m.short) for m in room.members()
                                 if m.short != self.session.me]
        self._refresh_members()

    def _refresh_channels(self) -> None:
        s = self.session
        if s.room is None:
            return
        unread = {c.id: s.unread(s.room.id, c.id) for c in s.room.channels()}
        where = self.voice.channel
        title = "@ " + s.title(s.room) if s.room.is_direct() else s.room.name
        self.channels.set_room(title, s.room.channels(), unread, s.channel, voice=self.voice.participants(s.room.id),
                               name_of=s.room.name_of, my_voice=where[1] if where and where[0] == s.room.id else None)

    def _refresh_members(self) -> None:
        room = self.session.room
        if room is not None:
            self.members.set_members(room.members(), self.session.live.presence(room.id))

    def _on_channel(self, channel: str) -> None:
        s = self.session
        room = s.room
        self.composer_state.cancel()
        if room is None or not channel:
            self.model.set_channel(None, "")
            self._refresh_channels()
            return
        ch = next((c for c in room.channels() if c.id == channel), None)
        name = ch.name if ch else channel
        self.header_title.setText(f"#  {name}")
        self.header_topic.setText(ch.topic if ch and ch.topic else str(room.view.settings().get("topic", "") or ""))
        self.composer.set_placeholder(f"Message #{name}")
        self.model.set_channel(room.view, channel, read_mark=s.read_mark(room.id, channel),
                               favorites=self.node.profile.store.favorites(room.id), name_of=room.name_of)
        self._refresh_channels()
        self._update_typing()
        QTimer.singleShot(0, self._maybe_read)
        # What is alive now (the app, the room, its first page) stays alive: keep it out of the cyclic GC, whose
        # full passes over it stalled the UI thread by ~90 ms while messages arrived (frozen cycles leak, rarely).
        QTimer.singleShot(0, gc.freeze)
        self.composer.edit.setFocus()

    def _on_updated(self, room_id: bytes) -> None:
        s = self.session
        if s.room is not None and s.room.id == room_id:
            self.model.refresh(self.view.visible_rows())
            self._refresh_members()
            self._maybe_read()

    def _on_unread(self) -> None:
        self.refresh_rooms()
        self._refresh_channels()

    def _maybe_read(self, *_: object) -> None:
        if self.session.focused and self.view.at_bottom() and self.isVisible():
            self.session.mark_read()

    def _on_live(self, what: str) -> None:
        if what == "typing":
            self._update_typing()
        elif what == "presence":
            self._refresh_members()
            if self.session.room is not None:  # my own status too (idle after a while without activity)
                mine = self.session.live.presence(self.session.room.id).get(self.session.me, ONLINE)
                self.channels.set_me(self.node.profile.display_name, self.session.me, mine.capitalize())
            if self.voice.service is not None and self.session.room is not None:  # binds voice once networking runs
                self._refresh_channels()
        elif what == "rooms":
            self.session.attach_all_later()
            self.refresh_rooms()
        elif what == "public" and self._browser is not None:
            self._browser.set_rooms(self.session.live.public_rooms())

    def _update_typing(self) -> None:
        s = self.session
        if s.room is None or not s.channel:
            self.typing_line.setText(" ")
            return
        names = [s.room.name_of(x) for x in s.live.typing(s.room.id, s.channel) if x != s.me]
        if not names:
            text = " "
        elif len(names) == 1:
            text = f"<b>{names[0]}</b> is typing…"
        elif len(names) <= 3:
            text = "<b>" + "</b>, <b>".join(names[:-1]) + f"</b> and <b>{names[-1]}</b> are typing…"
        else:
            text = "Several people are typing…"
        self.typing_line.setText(text)

    def _typing(self) -> None:
        import time

        s = self.session
        if s.room is not None and s.channel and time.monotonic() - self._typing_sent > 3:
            self._typing_sent = time.monotonic()
            s.live.set_typing(s.room.id, s.channel)

    # ----- actions ------------------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        QMessageBox.warning(self, "Hubbub", text)

    def submit(self, text: str) -> None:
        s = self.session
        if s.room is None or not s.channel or self.files.submit(text):
            return
        if self.composer_state.submit(s.room, s.channel, text):
            if self._typing_sent:
                self._typing_sent = 0.0
                s.live.set_typing(s.room.id, s.channel, False)
            self.composer.clear()
            self.view.scrollToBottom()

    def edit_last(self) -> None:
        s = self.session
        if s.room is None or not s.channel:
            return
        msg = last_own_message(s.room.view.page(s.channel, 50), s.me)
        if msg is not None:
            self.composer_state.start_edit(msg)

    def start_reply(self, msg: Message) -> None:
        room = self.session.room
        self.composer.setProperty("reply_name", room.name_of(msg.author) if room else "")
        self.composer_state.start_reply(msg)

    def _do(self, action: object, *args: object) -> None:
        try:
            action(*args)  # type: ignore[operator]
        except HubbubError as exc:
            self.show_error(str(exc))

    def toggle_reaction(self, message_id: str, emoji: str) -> None:
        if self.session.room is not None:
            self._do(self.session.room.toggle_reaction, message_id, emoji)

    def context_menu(self, msg: Message, where: QPoint) -> None:
        menu = self.message_menu(msg)
        menu.exec(where)

    def message_menu(self, msg: Message) -> QMenu:
        """The right-click actions for a message (built separately so tests can trigger them)."""
        s = self.session
        room = s.room
        menu = QMenu(self)
        if room is None:
            return menu
        mine = msg.author == s.me
        moderator = (room.my_role() or Role.MEMBER) >= Role.MODERATOR
        if not msg.deleted:
            menu.addAction("Reply", lambda: self.start_reply(msg))
            react = menu.addMenu("Add reaction")
            for e in QUICK_REACTIONS:
                react.addAction(e, partial(self._do, room.react, msg.id, e))
            react.addAction("More…", lambda: self.pick_reaction(msg))
            if mine:
                menu.addAction("Edit", lambda: self.composer_state.start_edit(msg))
            menu.addAction("Unpin" if msg.pinned else "Pin", lambda: self._do(room.unpin if msg.pinned else room.pin, msg.id))
            fwd = menu.addMenu("Forward to")
            for rid, name in self.node.room_list():
                fwd.addAction(name, partial(self._forward, msg, rid))
            menu.addAction("Copy text", lambda: QGuiApplication.clipboard().setText(msg.text))
            fav = msg.id in self.model.favorites
            menu.addAction("Remove from favorites" if fav else "Add to favorites", lambda: self.set_favorite(msg, not fav))
            if mine or moderator:
                menu.addSeparator()
                delete = menu.addAction("Delete message", lambda: self._do(room.delete, msg.id))
                delete.setObjectName("delete")
        menu.addAction("Copy message id", lambda: QGuiApplication.clipboard().setText(msg.id))
        return menu

    def pick_reaction(self, msg: Message) -> None:
        room = self.session.room
        if room is None:
            return
        picker = EmojiPicker(self)
        picker.picked.connect(lambda e: self._do(room.react, msg.id, e))
        picker.move(self.mapToGlobal(self.rect().center()))
        picker.show()

    def _forward(self, msg: Message, room_id: bytes) -> None:
        room = self.session.room
        if room is None:
            return
        target = self.session.open_room(room_id)
        chans = self.session.text_channels(target)
        if chans:
            self._do(room.forward, msg.id, target, chans[0].id)

    def set_favorite(self, msg: Message, on: bool) -> None:
        room = self.session.room
        if room is not None:
            self.node.profile.store.set_favorite(room.id, msg.id, on)
            self.model.set_favorite(msg.id, on)

    def show_pins(self) -> None:
        s = self.session
        if s.room is None or not s.channel:
            return
        menu = QMenu(self)
        pins = s.room.view.pinned(s.channel)
        if not pins:
            menu.addAction("No pinned messages in this channel yet.").setEnabled(False)
        for m in pins:
            menu.addAction(f"{s.room.name_of(m.author)}: {one_line(m.text, 60)}", partial(self.view.jump_to, m.id))
        menu.exec(self.pins_button.mapToGlobal(QPoint(0, self.pins_button.height())))

    def toggle_members(self, on: bool) -> None:
        self.members.setVisible(on)

    def room_menu(self) -> None:
        room = self.session.room
        if room is None:
            return
        menu = QMenu(self)
        menu.addAction("Invite people", self.invite)
        menu.addAction("Room settings", self.room_settings)
        menu.addAction("Export history…", self.export)
        self.files.add_menu_actions(menu)
        menu.addSeparator()
        menu.addAction("Create a room", self.create_room)
        menu.exec(self.channels.menu_button.mapToGlobal(QPoint(0, self.channels.menu_button.height())))

    def create_room(self) -> None:
        dlg = NameDialog("Create a room", "A room holds your group's channels. You can invite people next.",
                         "e.g. Weekend LAN party", "Create", parent=self)
        if dlg.exec():
            try:
                self.session.create_room(dlg.value)
            except HubbubError as exc:
                self.show_error(str(exc))

    def invite(self) -> None:
        room = self.session.room
        if room is None:
            return
        try:
            link = self.session.live.invite_link(room)
        except HubbubError as exc:
            self.show_error(str(exc))
            return
        InviteDialog(room.name, link, self).exec()

    def join_room(self) -> None:
        dlg = JoinDialog(self)

        async def join(link: str) -> None:
            try:
                room_id = await self.session.live.join(link)
            except HubbubError as exc:
                dlg.show_error(str(exc))
                return
            self.session.rooms_changed.emit()
            self.session.select_room(room_id)
            dlg.done_joining()

        dlg.join_requested.connect(lambda link: spawn(join(link)))
        dlg.exec()

    def browse_rooms(self) -> None:
        dlg = RoomBrowser(self.session.live.public_rooms(), self)
        self._browser = dlg  # kept current while open (live "public" changes)

        async def join(room_id: bytes) -> None:
            try:
                rid = await self.session.live.join_public(room_id)
            except HubbubError as exc:
                self.show_error(str(exc))
                return
            self.session.rooms_changed.emit()
            self.session.select_room(rid)

        dlg.join_requested.connect(lambda rid: spawn(join(rid)))
        try:
            dlg.exec()
        finally:
            self._browser = None

    def room_settings(self) -> None:
        room = self.session.room
        if room is not None and RoomSettingsDialog(room, self).exec():
            self.refresh_rooms()
            self._refresh_channels()
            self._refresh_members()

    def export(self) -> None:
        room = self.session.room
        if room is not None:
            ExportDialog(self.node, room, self).exec()

    def quick_switcher(self) -> None:
        dlg = QuickSwitcher(self.session.targets(), self)
        dlg.chosen.connect(self.jump)
        dlg.exec()

    def jump(self, target: Target) -> None:
        """Go where a quick-switcher target points: a room or channel, or a direct conversation with a person."""
        if target.person is not None:
            spawn(self.message_member(target.person))
        else:
            self.session.jump(target)

    async def message_member(self, key: bytes) -> None:
        """Open (or create) the direct conversation with a member and select it; a failure is shown as a sentence."""
        try:
            await self.session.open_dm(key)
        except HubbubError as exc:
            self.show_error(str(exc))

    def preferences(self) -> None:
        settings = self.node.profile.settings
        voice = VoiceSettings(self.voice, bool(settings.get(PTT_ON, False)), self._ptt_key.toString() or DEFAULT_PTT_KEY)
        dlg = PreferencesDialog(self.node.profile.display_name, self.theme.name, self, extra=voice)
        accepted = dlg.exec()
        voice.done()
        if not accepted:
            return
        settings[PTT_ON] = voice.ptt.isChecked()
        settings[PTT_KEY] = voice.key()
        self._ptt_key = QKeySequence(voice.key())
        self.voice.set_push_to_talk(voice.ptt.isChecked())
        self._voice_do(voice.apply)
        name = dlg.name.text().strip()
        if name and name != self.node.profile.display_name:
            try:
                self.node.profile.set_display_name(name)
                for room in self.node.open_rooms():
                    room.set_member_name(name)
            except HubbubError as exc:
                self.show_error(str(exc))
            self.channels.set_me(name, self.session.me, "Online")
        if dlg.theme.currentText() != self.theme.name:
            self.set_theme(dlg.theme.currentText())

    # ----- voice -------------------------------------------------------------------------------------------

    def _name(self, short: str) -> str:
        room = self.session.room
        return room.name_of(short) if room is not None else short

    def _voice_do(self, action: object, *args: object) -> None:
        try:
            action(*args)  # type: ignore[operator]
        except HubbubError as exc:
            self.show_error(str(exc))
        self._on_voice_state()

    def click_voice_channel(self, channel: str) -> None:
        """Join the clicked voice channel, or leave it when I am in it."""
        room = self.session.room
        if room is not None:
            self._voice_do(self.voice.click_channel, room.id, channel)

    def leave_voice(self) -> None:
        if self.voice.current_call is not None:
            self.voice.hang_up()
        else:
            self.voice.leave()
        self._on_voice_state()

    def _on_voice_participants(self, room_id: bytes, channel: str) -> None:
        if self.session.room is not None and self.session.room.id == room_id:
            self._refresh_channels()

    def _on_voice_state(self) -> None:
        v = self.voice
        self.channels.set_voice_flags(v.muted, v.deafened)
        call = v.current_call
        if call is not None:
            who = self._name(short_id(call.peer))
            state = call.state.value
            text = {"ringing_in": f"📞 <b>{who}</b> is calling you…", "ringing_out": f"📞 Calling <b>{who}</b>…",
                    "active": f"📞 In a call with <b>{who}</b>"}.get(state, "")
            self.channels.voice_bar.show_state(text, ringing_in=state == "ringing_in", leave_tip="Hang up")
        elif v.channel is not None:
            room_id, channel = v.channel
            try:
                room = self.node.room(room_id)
                name = next((c.name for c in room.channels() if c.id == channel), channel)
                where = f"{name} · {room.name}"
            except HubbubError:
                where = channel
            self.channels.voice_bar.show_state(f"<b style='color:#23a55a'>Voice connected</b><br>{where}", leave_tip="Leave")
        else:
            self.channels.voice_bar.show_state("")
        self._refresh_channels()

    def _on_call(self, call: object) -> None:
        self._on_voice_state()
        current = self.voice.current_call
        if current is not None and current.state.value == "ringing_in":
            self.notify("Incoming call", f"{self._name(short_id(current.peer))} is calling you.")

    def member_menu(self, key: bytes, where: QPoint) -> None:
        self.member_actions(key).exec(where)

    def member_actions(self, key: bytes) -> QMenu:
        """A member's right-click menu: message, call, their voice volume, mute them for me (built apart so tests can use it)."""
        menu = QMenu(self)
        room = self.session.room
        if key == self.node.profile.public_key or room is None:
            menu.addAction("This is you").setEnabled(False)
            return menu
        menu.addAction("💬 Message", lambda: spawn(self.message_member(key)))
        menu.addAction("📞 Call", lambda: self._voice_do(self.voice.call, key, room.id))
        slider = QSlider(Qt.Orientation.Horizontal, menu)
        slider.setObjectName("volume")
        slider.setRange(0, 200)
        slider.setValue(int(self.voice.volume(key) * 100))
        slider.setToolTip("Their voice volume for me (100% = unchanged)")
        slider.valueChanged.connect(lambda value: self._voice_do(self.voice.set_volume, key, value / 100.0))
        box = QWidget(menu)
        lay = QHBoxLayout(box)
        lay.setContentsMargins(12, 4, 12, 4)
        lay.addWidget(QLabel("🔊 Volume", box))
        lay.addWidget(slider, 1)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(box)
        menu.addAction(holder)
        mute = menu.addAction("Mute for me")
        mute.setCheckable(True)
        mute.setChecked(self.voice.peer_muted(key))
        mute.toggled.connect(lambda on: self._voice_do(self.voice.set_peer_muted, key, on))
        return menu

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        """Push-to-talk: the key held anywhere in the app opens the mic (the key is not typed meanwhile).
        Keys and the mouse also count as activity, which keeps presence from going idle."""
        if e.type() in ACTIVITY and time.monotonic() - self._active_at > ACTIVITY_EVERY:
            self._active_at = time.monotonic()
            self.session.live.note_activity()
        if e.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(e, QKeyEvent):
            svc = self.voice.service if isinstance(obj, QWidget) and obj.window() is self else None
            if svc is not None and svc.push_to_talk and not e.isAutoRepeat() and not self._ptt_key.isEmpty() \
                    and QKeySequence(e.keyCombination()) == self._ptt_key:
                self.voice.push_to_talk(e.type() == QEvent.Type.KeyPress)
                return True
        return super().eventFilter(obj, e)

    def notify(self, title: str, body: str) -> None:
        if self.tray is not None:
            self.tray.showMessage(title, body, app_icon(), 6000)
        QApplication.alert(self)

    def status(self) -> str:
        return ONLINE
