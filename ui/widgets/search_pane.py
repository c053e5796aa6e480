"""The search pane (Ctrl+F): a query box, and results as you type, grouped by room and channel; a click opens the message."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QToolButton, QWidget

from .. import icons
from ..state.search import ResultGroup, ResultItem, SearchState
from .side_pane import side_pane

HINT = ('Words, "a phrase", prefix*, -word, from:name, in:#channel, has:file, has:link, is:pinned, '
        "before:2024-05-31, after:yesterday")
RESULT_ROLE = Qt.ItemDataRole.UserRole + 7


class SearchPane(QFrame):
    """Shown in place of the member list while searching."""

    chosen = Signal(bytes, str)  # room id, message id
    opened = Signal()
    closed = Signal()

    def __init__(self, state: SearchState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        lay, head, hl = side_pane(self, "SearchPane", left=12)
        self.box = QLineEdit(head)
        self.box.setPlaceholderText("Search messages")
        self.box.setToolTip(HINT)
        self.box.setClearButtonEnabled(True)
        self.close_button = QToolButton(head)
        icons.put(self.close_button, "close")
        self.close_button.setToolTip("Close the search (Esc)")
        self.close_button.clicked.connect(self.close_search)
        hl.addWidget(self.box, 1)
        hl.addWidget(self.close_button)
        self.status = QLabel(HINT, self)
        self.status.setObjectName("Muted")
        self.status.setWordWrap(True)
        self.status.setContentsMargins(12, 8, 12, 8)
        lay.addWidget(self.status)
        self.list = QListWidget(self)
        self.list.setObjectName("SearchResults")
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        lay.addWidget(self.list, 1)
        self.box.textChanged.connect(state.type)
        self.box.returnPressed.connect(state.run)
        state.results.connect(self.show_results)
        state.problem.connect(self.show_problem)
        self.hide()

    def open_search(self) -> None:
        self.show()
        self.opened.emit()
        self.box.setFocus()
        self.box.selectAll()

    def close_search(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()

    def show_problem(self, text: str) -> None:
        self.status.setText(text)
        self.status.show()

    def show_results(self, groups: list[ResultGroup]) -> None:
        self.list.clear()
        count = sum(len(g.items) for g in groups)
        if not self.state.text.strip():
            self.status.setText(HINT)
        elif not count:
            self.status.setText("No messages match.")
        else:
            self.status.setText(f"{count}{'+' if count >= 100 else ''} message{'s' if count != 1 else ''}")
        for g in groups:
            header = QListWidgetItem(self.list)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            label = QLabel(f"<b>{_escape(g.title)}</b>")
            label.setContentsMargins(8, 10, 8, 2)
            header.setSizeHint(label.sizeHint())
            self.list.setItemWidget(header, label)
            for item in g.items:
                self._add(item)

    def _add(self, item: ResultItem) -> None:
        row = QListWidgetItem(self.list)
        row.setData(RESULT_ROLE, (item.room_id, item.message_id))
        label = QLabel(f"<b>{_escape(item.author)}</b> <span style='color:gray'>{_escape(item.when)}</span><br>{item.snippet_html}")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setContentsMargins(16, 4, 8, 6)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.setFixedWidth(self.width() - 24)
        row.setSizeHint(label.sizeHint())
        self.list.setItemWidget(row, label)

    def items(self) -> list[QListWidgetItem]:
        """The result rows (not the group headings), in order."""
        found = (self.list.item(i) for i in range(self.list.count()))
        return [it for it in found if it is not None and it.data(RESULT_ROLE) is not None]

    def _clicked(self, item: QListWidgetItem) -> None:
        data = item.data(RESULT_ROLE)
        if data is not None:
            self.chosen.emit(data[0], data[1])



def _escape(text: str) -> str:
    return html.escape(text)
