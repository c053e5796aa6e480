"""What can be done to messages from the window: send, reply, edit, react, pin, forward, favourite, delete; the message menu."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QWidget

from app.errors import HubbubError
from app.links import MESSAGE_LINK_IN_TEXT, message_link
from app.models import Message

from .. import icons
from ..state.composer import ComposerState, Mode, last_own_message
from ..state.drafts import DraftKeeper
from ..state.permissions import message_rights
from ..state.session import Session
from .chat_pane import ChatPane
from .emoji_picker import EmojiPicker
from .message_model import one_line
from .thread_pane import ThreadPane, ThreadSource

QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀", "🔥"]
TYPING_EVERY = 3.0  # seconds between "I am typing" signals while typing goes on
DRAFT_SAVE_MS = 1500  # drafts are written out this long after the last keystroke (and when the window closes)


class MessageActions:
    """The message controller of the window: turns composer and menu actions into room operations."""

    def __init__(self, session: Session, chat: ChatPane, state: ComposerState, show_error: Callable[[str], None],
                 thread: ThreadPane) -> None:
        self.session = session
        self.chat = chat
        self.thread = thread
        self.state = state
        self.show_error = show_error
        self._typing_sent = 0.0
        self.drafts = DraftKeeper(session.drafts)
        self._held = ""  # the draft put aside while a sent message is being edited
        self._editing = False
        self._save = QTimer(chat)
        self._save.setSingleShot(True)
        self._save.setInterval(DRAFT_SAVE_MS)
        self._save.timeout.connect(session.save_drafts)
        chat.composer.edit.textChanged.connect(self._typed)
        state.mode_changed.connect(self._mode_changed)

    @property
    def parent(self) -> QWidget:
        return self.chat.window()

    def do(self, action: object, *args: object) -> None:
        """Run a room operation; its refusal is shown as a sentence."""
        try:
            action(*args)  # type: ignore[operator]
        except HubbubError as exc:
            self.show_error(str(exc))

    # ----- the composer ---------------------------------------------------------------------------

    def open_conversation(self, key: tuple[bytes, str] | None) -> None:
        """The window moved to another room or channel: show its own draft in the composer."""
        self.chat.composer.set_text(self.drafts.switch(key))
        self.chat.composer.set_ttl(None)  # a timer chosen for one conversation does not follow me into the next

    def _typed(self) -> None:
        found = MESSAGE_LINK_IN_TEXT.search(self.chat.composer.text())
        self.chat.show_link_hint(found.group(0) if found else None)
        if self.state.mode is not Mode.EDIT:
            self.drafts.typed(self.chat.composer.text())
            self._save.start()

    def _mode_changed(self) -> None:
        editing = self.state.mode is Mode.EDIT
        if editing and not self._editing:
            self._held = self.drafts.current()
        elif self._editing and not editing:
            self.chat.composer.set_text(self._held)
            self.drafts.typed(self._held)
        self._editing = editing

    def submit(self, text: str) -> None:
        s = self.session
        if s.room is None or not s.channel:
            return
        editing = self.state.mode is Mode.EDIT
        if self.state.submit(s.room, s.channel, text):
            if self._typing_sent:
                self._typing_sent = 0.0
                s.live.set_typing(s.room.id, s.channel, False)
            if not editing:  # after an edit the composer already shows the draft put aside for it
                self.chat.composer.clear()
            self.chat.view.scrollToBottom()

    def typing(self) -> None:
        s = self.session
        if s.room is not None and s.channel and time.monotonic() - self._typing_sent > TYPING_EVERY:
            self._typing_sent = time.monotonic()
            s.live.set_typing(s.room.id, s.channel)

    def edit_last(self) -> None:
        s = self.session
        if s.room is None or not s.channel:
            return
        msg = last_own_message(s.room.view.page(s.channel, 50), s.me)
        if msg is not None:
            self.state.start_edit(msg)

    def start_reply(self, msg: Message, in_thread: bool = False) -> None:
        room = self.session.room
        composer, state = (self.thread.composer, self.thread.state) if in_thread else (self.chat.composer, self.state)
        composer.setProperty("reply_name", room.name_of(msg.author) if room else "")
        state.start_reply(msg)

    # ----- threads --------------------------------------------------------------------------------

    def open_thread(self, root: str) -> None:
        """Open the thread under a message of the open channel in the pane beside it."""
        s = self.session
        if s.room is None or not s.channel:
            return
        name = next((c.name for c in s.room.channels() if c.id == s.channel), s.channel)
        self.thread.show_thread(ThreadSource(s.room.view, self.chat.model, root), s.channel, name,
                                name_of=s.room.name_of, favorites=self.chat.model.favorites)
        self.thread.composer.members = self.chat.composer.members

    def submit_in_thread(self, text: str) -> None:
        s = self.session
        if s.room is not None and s.channel and self.thread.state.submit(s.room, s.channel, text):
            self.thread.composer.clear()
            self.thread.view.scrollToBottom()

    # ----- the message menu -----------------------------------------------------------------------

    def menu(self, msg: Message, in_thread: bool = False) -> QMenu:
        """The right-click actions for a message, in the channel or (`in_thread`) the thread pane."""
        s = self.session
        room = s.room
        menu = QMenu(self.parent)
        if room is None:
            return menu
        may = message_rights(room.my_role(), s.me, msg)
        if may.reply:
            menu.addAction("Reply", lambda: self.start_reply(msg, in_thread))
        if may.thread and not in_thread:
            menu.addAction(icons.icon("thread"), "Reply in thread", lambda: self.open_thread(msg.id))
        if may.react:
            react = menu.addMenu("Add reaction")
            for e in QUICK_REACTIONS:
                react.addAction(e, partial(self.do, room.react, msg.id, e))
            react.addAction("More…", lambda: self.pick_reaction(msg))
        if may.edit:
            menu.addAction("Edit", lambda: self.state.start_edit(msg))
        if may.pin:
            menu.addAction("Pin", lambda: self.do(room.pin, msg.id))
        if may.unpin:
            menu.addAction("Unpin", lambda: self.do(room.unpin, msg.id))
        if may.forward:
            fwd = menu.addMenu("Forward to")
            for rid, name in s.node.room_list():
                fwd.addAction(name, partial(self.forward, msg, rid))
        menu.addAction("Copy link", lambda: QGuiApplication.clipboard().setText(message_link(room.id, msg.id)))
        if not msg.deleted:
            menu.addAction("Copy text", lambda: QGuiApplication.clipboard().setText(msg.text))
            fav = msg.id in self.chat.model.favorites
            menu.addAction("Remove from favorites" if fav else "Add to favorites", lambda: self.set_favorite(msg, not fav))
        if may.delete:
            menu.addSeparator()
            delete = menu.addAction("Delete message", lambda: self.do(room.delete, msg.id))
            delete.setObjectName("delete")
        menu.addAction("Copy message id", lambda: QGuiApplication.clipboard().setText(msg.id))
        return menu

    def context_menu(self, msg: Message, where: QPoint) -> None:
        self.menu(msg).exec(where)

    def thread_context_menu(self, msg: Message, where: QPoint) -> None:
        self.menu(msg, in_thread=True).exec(where)

    def toggle_reaction(self, message_id: str, emoji: str) -> None:
        if self.session.room is not None:
            self.do(self.session.room.toggle_reaction, message_id, emoji)

    def pick_reaction(self, msg: Message) -> None:
        room = self.session.room
        if room is None:
            return
        window = self.parent
        picker = EmojiPicker(window)
        picker.picked.connect(lambda e: self.do(room.react, msg.id, e))
        picker.move(window.mapToGlobal(window.rect().center()))
        picker.show()

    def forward(self, msg: Message, room_id: bytes) -> None:
        room = self.session.room
        if room is None:
            return
        target = self.session.open_room(room_id)
        chans = self.session.text_channels(target)
        if chans:
            self.do(room.forward, msg.id, target, chans[0].id)

    def set_favorite(self, msg: Message, on: bool) -> None:
        room = self.session.room
        if room is not None:
            self.session.node.profile.store.set_favorite(room.id, msg.id, on)
            self.chat.model.set_favorite(msg.id, on)

    def favorites(self) -> list[Message]:
        """My favorite messages of the open room that still exist, oldest first."""
        room = self.session.room
        if room is None:
            return []
        found = []
        for mid in self.session.node.profile.store.favorites(room.id):
            msg = self.session.message(mid)
            if msg is not None and not msg.deleted:
                found.append(msg)
        return sorted(found, key=lambda m: (m.ts, m.id))

    def favorites_menu(self) -> QMenu:
        """The favorites view: each favorite with its author and channel; choosing one jumps to it."""
        s = self.session
        menu = QMenu(self.parent)
        menu.setObjectName("favorites")
        favs = self.favorites()
        if s.room is None or not favs:
            menu.addAction("No favorites here yet: right-click a message, then Add to favorites.").setEnabled(False)
            return menu
        names = {c.id: c.name for c in s.room.channels()}
        for m in favs:
            menu.addAction(icons.icon("star", "#f0b232"), f"{s.room.name_of(m.author)} in #{names.get(m.channel, m.channel)}: "
                           f"{one_line(m.text, 60)}", partial(self.jump_to, m.channel, m.id))
        return menu

    def show_favorites(self) -> None:
        button = self.chat.favorites_button
        self.favorites_menu().exec(button.mapToGlobal(QPoint(0, button.height())))

    def jump_to(self, channel: str, message_id: str) -> None:
        """Show a message of the open room: open its channel if need be, then scroll to it."""
        if self.session.channel != channel:
            self.session.select_channel(channel)
            QTimer.singleShot(0, lambda: self.chat.view.jump_to(message_id))  # after the new channel's scroll to the bottom
        else:
            self.chat.view.jump_to(message_id)

    def show_pins(self) -> None:
        s = self.session
        if s.room is None or not s.channel:
            return
        menu = QMenu(self.parent)
        pins = s.room.view.pinned(s.channel)
        if not pins:
            menu.addAction("No pinned messages in this channel yet.").setEnabled(False)
        for m in pins:
            menu.addAction(f"{s.room.name_of(m.author)}: {one_line(m.text, 60)}", partial(self.chat.view.jump_to, m.id))
        button = self.chat.pins_button
        menu.exec(button.mapToGlobal(QPoint(0, button.height())))
