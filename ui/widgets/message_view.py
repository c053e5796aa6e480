"""The scrolling message list: loads older pages near the top, sticks to the bottom, turns clicks into signals."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QWidget

from app.models import Message

from .message_delegate import MessageDelegate
from .message_model import ROW_ROLE, MessageModel

TOP_ZONE = 400  # pixels from the top at which an older page is fetched


class MessageView(QListView):
    """A QListView over `MessageModel` with chat-style scrolling."""

    reaction_clicked = Signal(str, str)  # message id, emoji
    reply_clicked = Signal(str)  # id of the message replied to
    thread_clicked = Signal(str)  # id of a thread's root
    link_clicked = Signal(str)  # a link in a message's text
    context_requested = Signal(object, QPoint)  # Message, global position

    def __init__(self, model: MessageModel, delegate: MessageDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Messages")
        self.messages = model
        self.painter = delegate
        self.setModel(model)
        self.setItemDelegate(delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._anchor: int | None = None  # distance from the bottom to keep while older rows are prepended
        self._stick = True
        model.fetch_gate = self._near_top
        model.modelReset.connect(self._after_reset)
        model.newer_loaded.connect(self._after_newer)
        model.rowsAboutToBeInserted.connect(self._before_insert)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range)
        bar.valueChanged.connect(self._on_scroll)
        self._release = QTimer(self)
        self._release.setSingleShot(True)
        self._release.setInterval(40)
        self._release.timeout.connect(self._drop_anchor)
        self._pinned: str | None = None  # a message just jumped to: kept in view while rows load around it
        self._unpin = QTimer(self)
        self._unpin.setSingleShot(True)
        self._unpin.setInterval(400)
        self._unpin.timeout.connect(self._drop_pin)
        self.intro = QLabel(self.viewport())
        self.intro.setObjectName("ChannelIntro")
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.intro.hide()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            signal.connect(self._place_intro)
        self._countdown = QTimer(self)  # disappearing messages: their marks count down, and they leave when due
        self._countdown.setSingleShot(True)
        self._countdown.timeout.connect(self._tick_countdown)
        model.modelReset.connect(self._tick_countdown)
        model.rowsInserted.connect(self._start_countdown)

    def _start_countdown(self, *_: object) -> None:
        if not self._countdown.isActive():
            self._countdown.start(0)

    def _tick_countdown(self) -> None:
        now = time.time() * 1000
        soonest = self.messages.drop_expired(now)
        if soonest is None:
            return
        self.viewport().update()
        self._countdown.start(1000 if soonest - now < 120_000 else 15_000)

    def set_intro(self, html: str) -> None:
        """The line shown while the channel has no message yet ("This is the start of #general")."""
        self.intro.setText(html)
        self._place_intro()

    def _place_intro(self, *_: object) -> None:
        empty = self.messages.rowCount() == 0 and not self.messages.has_older() and bool(self.intro.text())
        self.intro.setVisible(empty)
        if empty:
            width = self.viewport().width() - 2 * 24
            self.intro.setFixedWidth(max(100, width))
            self.intro.adjustSize()
            self.intro.move(24, max(8, self.viewport().height() - self.intro.height() - 16))

    # ----- scrolling -------------------------------------------------------------------------

    def _near_top(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.maximum() == 0 or bar.value() <= TOP_ZONE

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def _before_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        bar = self.verticalScrollBar()
        self._stick = self.at_bottom() and not self.messages.has_newer()
        if first == 0 and not self._stick:
            self._anchor = bar.maximum() - bar.value()
            self._release.start()

    def _after_reset(self) -> None:
        self._anchor = None
        if self.messages.has_newer():  # opened around a message (a jump): `jump_to` places it
            self._stick = False
            return
        self._stick = True
        QTimer.singleShot(0, self.scrollToBottom)

    def scrollToBottom(self) -> None:
        """To the newest message: after a jump into the past, that means loading the newest page again."""
        if self.messages.has_newer():
            self.messages.set_channel(self.messages.source, self.messages.channel, read_mark=self.messages.read_mark,
                                      favorites=self.messages.favorites, ttl=self.messages.channel_ttl)
        super().scrollToBottom()

    def _after_newer(self, n: int) -> None:
        if self._stick:
            QTimer.singleShot(0, self.scrollToBottom)

    def _drop_pin(self) -> None:
        self._pinned = None

    def _on_range(self, lo: int, hi: int) -> None:
        bar = self.verticalScrollBar()
        if self._pinned is not None:
            self._centre_on(self._pinned)
        elif self._anchor is not None:
            bar.setValue(hi - self._anchor)
        elif self._stick:
            bar.setValue(hi)

    def _drop_anchor(self) -> None:
        self._anchor = None

    def _on_scroll(self, value: int) -> None:
        if self._anchor is None:
            self._stick = self.at_bottom()
        if value <= TOP_ZONE and self.messages.has_older() and self._anchor is None:
            QTimer.singleShot(0, self._fetch_older)
        elif value >= self.verticalScrollBar().maximum() - TOP_ZONE and self.messages.has_newer():
            QTimer.singleShot(0, self._fetch_newer)

    def _fetch_newer(self) -> None:
        bar = self.verticalScrollBar()
        if self.messages.has_newer() and bar.value() >= bar.maximum() - TOP_ZONE:
            self._stick = False
            self._anchor = None  # rows added below leave the position as it is (an anchor is for rows added above)
            self._release.stop()
            self.messages.fetch_newer()

    def _fetch_older(self) -> None:
        if self._near_top() and self.messages.has_older():
            bar = self.verticalScrollBar()
            self._anchor = bar.maximum() - bar.value()
            self._release.start()
            self.messages.fetch_older()

    def visible_rows(self) -> range:
        top = self.indexAt(QPoint(4, 4)).row()
        bottom = self.indexAt(QPoint(4, self.viewport().height() - 4)).row()
        if top < 0:
            top = 0
        if bottom < 0:
            bottom = self.messages.rowCount() - 1
        return range(top, bottom + 1)

    def jump_to(self, message_id: str) -> bool:
        """Scroll to a message, loading older pages if it is near, else the page around it; returns whether it was found."""
        if self.messages.far(message_id):
            self.messages.show_around(message_id)
        row = self.messages.load_until(message_id)
        if row is None:
            return False
        self._stick = False
        self._anchor = None  # older rows came in for this: the position to keep is the message's, not the bottom's
        self._release.stop()
        self.doItemsLayout()
        self.scrollTo(self.messages.index(row), QAbstractItemView.ScrollHint.PositionAtCenter)
        self._pinned = message_id  # rows measured or loaded around it in the next moments keep it in view
        self._unpin.start()
        QTimer.singleShot(0, lambda: self._centre_on(message_id))  # again once rows painted for the first time settle
        return True

    def _centre_on(self, message_id: str) -> None:
        row = self.messages.row_of(message_id)
        if row is not None:
            self.scrollTo(self.messages.index(row), QAbstractItemView.ScrollHint.PositionAtCenter)

    def resizeEvent(self, e: QResizeEvent) -> None:
        stick = self.at_bottom()
        super().resizeEvent(e)
        self._place_intro()
        if stick:
            QTimer.singleShot(0, self.scrollToBottom)

    # ----- mouse -----------------------------------------------------------------------------------

    def _row_at(self, pos: QPoint) -> tuple[int, QPoint] | None:
        idx = self.indexAt(pos)
        if not idx.isValid():
            return None
        rect = self.visualRect(idx)
        return idx.row(), pos - rect.topLeft()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        idx = self.indexAt(e.position().toPoint())
        row = idx.row() if idx.isValid() else -1
        if row != self.painter.hover_row:
            self.painter.hover_row = row
            self.viewport().update()
        super().mouseMoveEvent(e)

    def leaveEvent(self, e: QEvent) -> None:
        self.painter.hover_row = -1
        self.viewport().update()
        super().leaveEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        found = self._row_at(e.position().toPoint())
        if found is None:
            return super().mousePressEvent(e)
        row, local = found
        info = self.messages.data(self.messages.index(row), ROW_ROLE)
        if e.button() == Qt.MouseButton.RightButton:
            self.context_requested.emit(info.msg, e.globalPosition().toPoint())
            return None
        hit = self.painter.hit(info, self.viewport().width(), local)
        if hit is not None and hit[0] == "reaction":
            self.reaction_clicked.emit(info.msg.id, hit[1])
            return None
        if hit is not None and hit[0] == "reply":
            self.reply_clicked.emit(hit[1])
            return None
        if hit is not None and hit[0] == "thread":
            self.thread_clicked.emit(hit[1])
            return None
        if hit is not None and hit[0] == "link":
            self.link_clicked.emit(hit[1])
            return None
        return super().mousePressEvent(e)

    def message_at(self, pos: QPoint) -> Message | None:
        found = self._row_at(pos)
        return self.messages.message_at(found[0]) if found else None
