"""The main window: lays out the rail, channels, chat and member list, and wires them to the session and controllers.

What the window does is split by concern: `ChatPane` (the open channel), `MessageActions` (messages and the
composer), `RoomActions` (room dialogs and menus), `VoiceControls` (voice bar and channels) and `MemberMenu`.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QEvent, QObject, QPoint, QSettings, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QHBoxLayout, QMainWindow, QMenu, QMessageBox, QStackedWidget, QSystemTrayIcon, QWidget

from app.errors import HubbubError
from app.models import Message, short_id
from app.room import Room

from .. import icons
from ..link_opener import open_link
from ..services import ONLINE
from ..state.composer import ComposerState, Completion
from ..state.session import Session
from ..state.shortcuts import SHORTCUTS
from ..state.text import duration
from ..state.voice import DEFAULT_PTT_KEY, PTT_KEY, PTT_ON, VoiceState
from ..theme import THEMES, Theme, apply_theme
from .app_icon import app_icon
from ..state.search import SearchState
from .chat_pane import ChatPane, EmptyState
from .dialogs import PreferencesDialog
from .file_wiring import FileWiring
from .find_actions import FindActions
from .member_list import MemberList, avatar_icon
from .member_menu import MemberMenu
from .message_actions import MessageActions
from .room_actions import RoomActions
from .route_wiring import RouteWiring
from .search_pane import SearchPane
from .shortcuts_overlay import ShortcutsOverlay
from .thread_pane import ThreadPane
from .sidebar import ChannelPanel, RoomRail
from .voice_controls import VoiceControls
from .voice_settings import VoiceSettings

ACTIVITY = frozenset((QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel))
ACTIVITY_EVERY = 5.0  # seconds: key and mouse activity is reported to the node at most this often


class MainWindow(QMainWindow):
    """The Hubbub window over one session."""

    def __init__(self, session: Session, settings: QSettings | None = None) -> None:
        super().__init__()
        self.session = session
        self.node = session.node
        self.settings = settings
        self._active_at = 0.0
        self.composer_state = ComposerState()
        self.voice = VoiceState(session.live)
        self._ptt_key = QKeySequence(str(self.node.profile.settings.get(PTT_KEY, DEFAULT_PTT_KEY)))
        self.theme: Theme = THEMES.get(str(self.node.profile.settings.get("ui_theme", "dark")), THEMES["dark"])
        icons.use_theme(self.theme)
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
        self.channels.set_theme(self.theme)
        lay.addWidget(self.rail)
        lay.addWidget(self.channels)
        self.stack = QStackedWidget(root)
        lay.addWidget(self.stack, 1)
        self.empty = EmptyState()
        self.empty_create, self.empty_join = self.empty.create_button, self.empty.join_button
        self.stack.addWidget(self.empty)
        self.chat = ChatPane(session.me, self.theme, self.composer_state)
        self.stack.addWidget(self.chat)
        self.model, self.delegate, self.view = self.chat.model, self.chat.delegate, self.chat.view
        self.composer, self.typing_line = self.chat.composer, self.chat.typing_line
        self.header_title, self.header_topic = self.chat.header_title, self.chat.header_topic
        self.members_button = self.chat.members_button
        self.thread_pane = ThreadPane(session.me, self.theme, root)
        lay.addWidget(self.thread_pane)
        self.members = MemberList(self.theme, root)
        self.members.sessions = session.live.sessions  # the route marks
        lay.addWidget(self.members)
        self.search_pane = SearchPane(SearchState(session), root)
        lay.addWidget(self.search_pane)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("Hubbub")
            self.tray.activated.connect(self._bring_to_front)
            self.tray.show()
        self.messages = MessageActions(session, self.chat, self.composer_state, lambda text: self.show_error(text), self.thread_pane)
        self.rooms = RoomActions(session, self, lambda text: self.show_error(text), self._refresh_all)
        self.voice_controls = VoiceControls(session, self.voice, self.channels, lambda text: self.show_error(text),
                                            lambda title, body: self.notify(title, body), self._refresh_channels)
        self.member_menu = MemberMenu(session, self.rooms, self.voice_controls, self)
        self.shortcuts_help = ShortcutsOverlay(root)
        self.finding = FindActions(session, self, self.search_pane, self.chat, self.channels, self.rooms,
                                   lambda text: self.show_error(text), lambda url: open_link(self, url))
        self._wire()
        self.files = FileWiring(self, self)  # attach, drop, paste, previews, Save as… / Open (ui/widgets/file_wiring.py)
        self.routes = RouteWiring(self, session, self.chat.header_route, lambda: self.theme,  # the marks, live
                                  [self.refresh_rooms, self._refresh_members])
        self.rooms.menu_extensions.append(self.files.add_menu_actions)
        self._shortcuts()
        self._restore()
        self.refresh_rooms()
        self.channels.set_me(self.node.profile.display_name, session.me, "Online")

    def _bring_to_front(self, *_: object) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # ----- wiring ------------------------------------------------------------------------------------

    def _wire(self) -> None:
        s, m, r = self.session, self.messages, self.rooms
        s.room_selected.connect(self._on_room)
        s.channel_selected.connect(self._on_channel)
        s.room_updated.connect(self._on_updated)
        s.unread_changed.connect(self._on_unread)
        s.rooms_changed.connect(self.refresh_rooms)
        s.notification.connect(self.notify)
        s.live_changed.connect(self._on_live)
        self.empty_create.clicked.connect(r.create_room)
        self.empty_join.clicked.connect(r.join_room)
        self.rail.room_chosen.connect(s.select_room)
        self.rail.create_clicked.connect(r.create_room)
        self.rail.join_clicked.connect(r.join_room)
        self.rail.browse_clicked.connect(r.browse_rooms)
        self.channels.channel_chosen.connect(s.select_channel)
        self.channels.room_menu_clicked.connect(lambda: r.show_menu(self.channels.menu_button))
        self.channels.settings_clicked.connect(self.preferences)
        self.chat.pins_button.clicked.connect(m.show_pins)
        self.chat.favorites_button.clicked.connect(m.show_favorites)
        self.chat.invite_button.clicked.connect(r.invite)
        self.members_button.toggled.connect(self.toggle_members)
        self.composer.submitted.connect(self.submit)
        self.composer.edit_last_requested.connect(m.edit_last)
        self.composer.typing.connect(m.typing)
        self.composer_state.error.connect(self.show_error)
        self.view.reaction_clicked.connect(m.toggle_reaction)
        self.view.reply_clicked.connect(self.view.jump_to)
        self.view.context_requested.connect(m.context_menu)
        self.view.verticalScrollBar().valueChanged.connect(self._maybe_read)
        self.view.thread_clicked.connect(m.open_thread)
        t = self.thread_pane
        t.composer.submitted.connect(m.submit_in_thread)
        t.state.error.connect(self.show_error)
        t.view.reaction_clicked.connect(m.toggle_reaction)
        t.view.context_requested.connect(m.thread_context_menu)
        t.opened.connect(self.members.hide)  # the thread takes the member list's place while it is open
        t.opened.connect(self.search_pane.close_search)
        self.search_pane.opened.connect(t.close_thread)  # the search takes the member list's place too
        self.search_pane.opened.connect(self.members.hide)
        self.search_pane.closed.connect(lambda: self.toggle_members(self.members_button.isChecked()))
        t.closed.connect(lambda: self.members.setVisible(self.members_button.isChecked()))
        self.members.member_menu_requested.connect(self.member_menu_at)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.voice.set_push_to_talk(bool(self.node.profile.settings.get(PTT_ON, False)))

    def _shortcuts(self) -> None:
        """Bind the shortcuts of `SHORTCUTS` (the same list the Ctrl+/ overlay shows)."""
        actions = {"switcher": self.rooms.quick_switcher, "previous_channel": lambda: self.session.step_channel(-1),
                   "next_channel": lambda: self.session.step_channel(1), "cancel": self._escape,
                   "members": self.members_button.toggle, "favorites": self.messages.show_favorites,
                   "help": self.show_shortcuts, "search": self.finding.toggle_search,
                   "previous_unread": lambda: self.session.step_unread(-1), "next_unread": lambda: self.session.step_unread(1),
                   "mark_all_read": self.session.mark_all_read}
        for s in SHORTCUTS:
            if s.action is not None:
                QShortcut(QKeySequence(s.keys), self, actions[s.action])

    def show_shortcuts(self) -> None:
        ptt = self._ptt_key.toString() if self.voice.service is not None and self.voice.service.push_to_talk else None
        self.shortcuts_help.toggle(ptt or None)

    def _escape(self) -> None:
        if self.shortcuts_help.isVisible():
            self.shortcuts_help.hide()
        elif self.search_pane.isVisible():
            self.search_pane.close_search()
        else:
            self.composer_state.cancel()

    # ----- what tests and the controllers call -------------------------------------------------------------

    def show_error(self, text: str) -> None:
        QMessageBox.warning(self, "Hubbub", text)

    def join_link(self, link: str) -> None:
        """Open the join dialog filled in with `link` (a hubbub:// link the app was opened with)."""
        self.rooms.join_link(link)

    def submit(self, text: str) -> None:
        """Send the composer's text: with the files waiting to go, if any."""
        if not self.files.submit(text):
            self.messages.submit(text)

    def message_menu(self, msg: Message) -> QMenu:
        """The right-click actions for a message."""
        return self.messages.menu(msg)

    def member_actions(self, key: bytes) -> QMenu:
        """A member's right-click menu."""
        return self.member_menu.build(key)

    def member_menu_at(self, key: bytes, where: QPoint) -> None:
        self.member_actions(key).exec(where)

    def toggle_members(self, on: bool) -> None:
        self.members.setVisible(on and not self.thread_pane.isVisible() and not self.search_pane.isVisible())

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
        icons.use_theme(self.theme)
        self.delegate.set_theme(self.theme)
        self.thread_pane.delegate.set_theme(self.theme)
        self.rail.set_theme(self.theme)
        self.channels.set_theme(self.theme)
        self.members.theme = self.theme
        self.view.viewport().update()
        self._refresh_members()
        self.routes.show_header()

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
        self.voice_controls.do(voice.apply)
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

    # ----- rooms and channels ----------------------------------------------------------------------

    def refresh_rooms(self) -> None:
        s = self.session
        rooms = s.summaries()
        self.rail.set_rooms(rooms, s.room.id if s.room else None)
        self.stack.setCurrentWidget(self.chat if s.room is not None else self.empty)
        total = sum(r.attention for r in rooms)  # by each channel's notification level (muted: nothing)
        if self.tray is not None:
            self.tray.setIcon(app_icon(total))
            self.tray.setToolTip(f"Hubbub — {total} unread" if total else "Hubbub")
        self.setWindowTitle(f"({total}) Hubbub" if total else "Hubbub")

    def _refresh_all(self) -> None:
        self.refresh_rooms()
        self._refresh_channels()
        self._refresh_members()

    def _on_room(self, room: Room | None) -> None:
        self.composer_state.cancel()
        self.refresh_rooms()
        if room is None:
            self.messages.open_conversation(None)
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
        peer = s.room.direct_peer()
        person = None
        if peer is not None:
            short = short_id(peer)
            status = s.live.presence(s.room.id).get(short, "offline")
            person = (s.title(s.room), avatar_icon(s.title(s.room), short, status, self.theme, 24))
        title = "@ " + s.title(s.room) if s.room.is_direct() else s.room.name
        self.channels.set_room(title, s.room.channels(), unread, s.channel, voice=self.voice.participants(s.room.id),
                               name_of=s.room.name_of, my_voice=where[1] if where and where[0] == s.room.id else None,
                               person=person)

    def _refresh_members(self) -> None:
        room = self.session.room
        if room is not None:
            self.members.set_members(room.members(), self.session.live.presence(room.id), direct=room.is_direct())

    def _on_channel(self, channel: str) -> None:
        s = self.session
        room = s.room
        self.composer_state.cancel()
        self.thread_pane.close_thread()
        self.messages.open_conversation((room.id, channel) if room is not None and channel else None)
        if room is None or not channel:
            self.model.set_channel(None, "")
            self._refresh_channels()
            return
        ch = next((c for c in room.channels() if c.id == channel), None)
        name = ch.name if ch else channel
        direct = room.is_direct()
        where = "@" + s.title(room) if direct else "#" + name
        self.header_title.setText(f"@ {s.title(room)}" if direct else f"#  {name}")
        self.view.set_intro(f"This is the beginning of your direct messages with <b>@{s.title(room)}</b>." if direct
                            else f"<b>Welcome to #{name}!</b><br>This is the start of the #{name} channel.")
        self.header_topic.setText(ch.topic if ch and ch.topic else str(room.view.settings().get("topic", "") or ""))
        self.chat.invite_button.setVisible(not direct)
        self.composer.set_placeholder(f"Message {where}")
        around = s.take_jump(channel)  # a search result or a message link: the messages around it
        self.model.set_channel(room.view, channel, read_mark=s.read_mark(room.id, channel),
                               favorites=self.node.profile.store.favorites(room.id), name_of=room.name_of,
                               ttl=ch.ttl if ch else None, around=around)
        if around is not None:
            self.view.jump_to(around)
        if ch is not None and ch.ttl:
            self.header_topic.setText(f"Messages disappear after {duration(ch.ttl)}" + (f"  ·  {self.header_topic.text()}"
                                                                                         if self.header_topic.text() else ""))
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
            if self.thread_pane.root is not None:
                self.thread_pane.model.refresh(self.thread_pane.view.visible_rows())
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
        elif what == "public":
            self.rooms.public_rooms_changed()

    def _update_typing(self) -> None:
        s = self.session
        if s.room is None or not s.channel:
            self.chat.show_typing([])
            return
        self.chat.show_typing([s.room.name_of(x) for x in s.live.typing(s.room.id, s.channel) if x != s.me])

    # ----- events ------------------------------------------------------------------------------------

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
