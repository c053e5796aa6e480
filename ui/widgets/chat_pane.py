"""The middle of the window: the open channel (header, message list, composer, typing line), or the welcome page."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from .. import icons
from ..state.composer import ComposerState
from ..state.text import typing_text
from ..theme import Theme
from .composer import Composer
from .message_delegate import MessageDelegate
from .message_model import MessageModel
from .message_view import MessageView
from .route_mark import RouteLabel


class EmptyState(QFrame):
    """Shown while I am in no room: create one, or join with a link."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Chat")
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        label = QLabel("<div style='font-size:20pt; font-weight:700'>Welcome to Hubbub</div>"
                       "<div style='margin-top:10px; font-size:11pt'>You are not in any room yet.<br>"
                       "Create a room for your group, or join one with an invite link someone sent you.</div>")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.create_button = QPushButton("Create a room")
        self.create_button.setObjectName("Primary")
        self.join_button = QPushButton("Join with a link")
        row.addWidget(self.create_button)
        row.addWidget(self.join_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(2)


class ChatPane(QFrame):
    """One channel: the header (name, topic, pins, invite, member-list toggle), messages, composer, who is typing."""

    def __init__(self, me: str, theme: Theme, composer_state: ComposerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Chat")
        self.theme = theme
        cl = QVBoxLayout(self)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self._header())
        self.model = MessageModel(me)
        self.delegate = MessageDelegate(theme=theme)
        self.delegate.me = me
        self.view = MessageView(self.model, self.delegate, self)
        cl.addWidget(self.view, 1)
        self.link_hint = QLabel(self)  # a hubbub://message/ link in the composer: open it from here
        self.link_hint.setObjectName("Muted")
        self.link_hint.setContentsMargins(20, 2, 0, 2)
        self.link_hint.hide()
        cl.addWidget(self.link_hint)
        self.composer = Composer(composer_state, self)
        cl.addWidget(self.composer)
        self.typing_line = QLabel(" ", self)
        self.typing_line.setObjectName("TypingLine")
        self.typing_line.setContentsMargins(20, 0, 0, 4)
        self.typing_line.setFixedHeight(22)
        cl.addWidget(self.typing_line)

    def _header(self) -> QWidget:
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
        self.header_route = RouteLabel(self.theme, head)  # in a DM: how our session with the other person runs
        hl.addSpacing(8)
        hl.addWidget(self.header_route)
        hl.addSpacing(12)
        hl.addWidget(self.header_topic, 1)
        self.pins_button = QToolButton()
        icons.put(self.pins_button, "pin")
        self.pins_button.setToolTip("Pinned messages")
        self.favorites_button = QToolButton()
        icons.put(self.favorites_button, "favorites")
        self.favorites_button.setToolTip("My favorite messages in this room (Ctrl+Shift+F)")
        self.invite_button = QToolButton()
        icons.put(self.invite_button, "invite")
        self.invite_button.setToolTip("Invite people")
        self.members_button = QToolButton()
        icons.put(self.members_button, "members")
        self.members_button.setCheckable(True)
        self.members_button.setChecked(True)
        self.members_button.setToolTip("Show or hide the member list")
        for b in (self.pins_button, self.favorites_button, self.invite_button, self.members_button):
            hl.addWidget(b)
        return head

    def show_link_hint(self, link: str | None) -> None:
        """Offer to open the message link the composer holds (None: it holds none)."""
        if link is None:
            self.link_hint.hide()
            return
        self.link_hint.setText(f"Your message holds a link to a message: <a href=\"{html.escape(link)}\">open it</a>")
        self.link_hint.show()

    def show_typing(self, names: list[str]) -> None:
        """Who is typing in this channel now (other people only)."""
        self.typing_line.setText(typing_text(names))
