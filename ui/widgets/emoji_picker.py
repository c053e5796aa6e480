"""The emoji picker: a popup grid of common emoji, used by the composer and by "React"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLineEdit, QToolButton, QVBoxLayout, QWidget

EMOJI: list[tuple[str, str]] = [
    ("👍", "thumbs up yes"), ("👎", "thumbs down no"), ("❤️", "heart love"), ("😂", "joy laugh"), ("😮", "wow surprised"),
    ("😢", "sad cry"), ("🎉", "party tada"), ("🔥", "fire hot"), ("👀", "eyes look"), ("🚀", "rocket ship"),
    ("✅", "check done"), ("❌", "cross no"), ("🙏", "thanks please"), ("😀", "grin smile"), ("😅", "sweat smile"),
    ("😎", "cool sunglasses"), ("🤔", "thinking hmm"), ("🙌", "hands raise"), ("👏", "clap"), ("💯", "hundred"),
    ("😍", "love eyes"), ("😭", "sob"), ("🥳", "party face"), ("🤝", "handshake deal"), ("👋", "wave hello"),
    ("⭐", "star"), ("💡", "idea bulb"), ("🐛", "bug"), ("☕", "coffee"), ("🍕", "pizza"),
    ("🎮", "game"), ("🎧", "headphones music"), ("📌", "pin"), ("⚠️", "warning"), ("💬", "speech chat"),
    ("🤖", "robot bot"), ("🐍", "python snake"), ("🦀", "crab rust"), ("😴", "sleep"), ("🤯", "mind blown"),
]


class EmojiPicker(QFrame):
    """A popup of emoji with a search field; emits `picked` with the chosen emoji."""

    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("EmojiPicker")
        self.setStyleSheet("#EmojiPicker { border: 1px solid palette(dark); border-radius: 8px; }")
        layout = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Find an emoji")
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        grid = QGridLayout()
        grid.setSpacing(2)
        self.buttons: list[tuple[QToolButton, str]] = []
        for i, (emoji, words) in enumerate(EMOJI):
            b = QToolButton(self)
            b.setText(emoji)
            b.setToolTip(words.split()[0])
            b.setFixedSize(36, 36)
            b.setStyleSheet("font-size: 16pt;")
            b.clicked.connect(lambda _=False, e=emoji: self._pick(e))
            grid.addWidget(b, i // 8, i % 8)
            self.buttons.append((b, words))
        layout.addLayout(grid)

    def _filter(self, text: str) -> None:
        q = text.lower().strip()
        for b, words in self.buttons:
            b.setVisible(not q or q in words)

    def _pick(self, emoji: str) -> None:
        self.picked.emit(emoji)
        self.close()
