"""The thread pane beside the channel: a thread's root and its replies, with a composer that answers in the thread."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QLabel, QToolButton, QWidget

from app.models import Message

from .. import icons
from ..state.composer import ComposerState
from ..theme import Theme
from .composer import Composer
from .message_delegate import MessageDelegate
from .message_model import MessageModel, MessageSource
from .message_view import MessageView
from .side_pane import side_pane


class ThreadSource:
    """A thread read as a `MessageSource`: its root first, then its replies, which the channel's model has counted."""

    def __init__(self, view: MessageSource, channel_model: MessageModel, root: str) -> None:
        self.view = view
        self.channel_model = channel_model
        self.root = root

    def _ids(self) -> list[str]:
        return [self.root, *self.channel_model.thread_replies(self.root)]

    def count(self, channel: str) -> int:
        return len(self._ids())

    def page(self, channel: str, limit: int, before: int | None = None, now_ms: float | None = None) -> list[Message]:
        ids = self._ids()
        end = len(ids) if before is None else max(0, min(before, len(ids)))
        found = (self.view.message(mid, now_ms) for mid in ids[max(0, end - limit):end])
        return [m for m in found if m is not None]

    def message(self, message_id: str, now_ms: float | None = None) -> Message | None:
        return self.view.message(message_id, now_ms)


class ThreadPane(QFrame):
    """Shown in place of the member list while a thread is open."""

    opened = Signal()
    closed = Signal()

    def __init__(self, me: str, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root: str | None = None
        lay, head, hl = side_pane(self, "ThreadPane")
        self.title = QLabel("Thread", head)
        self.title.setObjectName("HeaderTitle")
        self.where = QLabel(head)
        self.where.setObjectName("HeaderTopic")
        self.close_button = QToolButton(head)
        icons.put(self.close_button, "close")
        self.close_button.setToolTip("Close the thread")
        self.close_button.clicked.connect(self.close_thread)
        hl.addWidget(self.title)
        hl.addSpacing(8)
        hl.addWidget(self.where, 1)
        hl.addWidget(self.close_button)
        self.model = MessageModel(me, fold_threads=False)
        self.delegate = MessageDelegate(theme=theme)
        self.delegate.me = me
        self.view = MessageView(self.model, self.delegate, self)
        lay.addWidget(self.view, 1)
        self.state = ComposerState()
        self.composer = Composer(self.state, self)
        self.composer.set_placeholder("Reply in the thread")
        lay.addWidget(self.composer)
        self.hide()

    def show_thread(self, source: ThreadSource, channel: str, channel_name: str, **model_args: object) -> None:
        self.root = source.root
        self.state.cancel()
        self.state.thread_root = source.root
        self.where.setText(f"#{channel_name}")
        self.model.set_channel(source, channel, **model_args)  # type: ignore[arg-type]
        self.show()
        self.opened.emit()
        self.composer.edit.setFocus()

    def close_thread(self) -> None:
        if self.root is None:
            return
        self.root = None
        self.state.thread_root = None
        self.model.set_channel(None, "")
        self.hide()
        self.closed.emit()
