"""No empty boxes: on a machine set up only by the Makefile, every glyph of the window's own text is in the UI font,
every icon button draws something (from the icon font inside qtawesome), and message emoji have a colour emoji font."""

from __future__ import annotations

import re
from html import unescape

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFontDatabase, QImage, QRawFont
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QListWidget, QMenu, QTreeWidget, QWidget

from app.node import Node
from ui import icons
from ui.demo import build_demo
from ui.desktop import build_window

EMOJI_FONT = "Noto Color Emoji"  # fonts-noto-color-emoji, in the Makefile's SYSTEM_PACKAGES


def _plain(text: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", text))


def _texts(root: QWidget) -> list[tuple[QWidget, str]]:
    """Every piece of the window's own text: labels, buttons, list and tree items."""
    out: list[tuple[QWidget, str]] = []
    for w in [root, *root.findChildren(QWidget)]:
        if isinstance(w, QLabel):
            out.append((w, _plain(w.text())))
        elif isinstance(w, QAbstractButton):
            out.append((w, w.text()))
        elif isinstance(w, QListWidget):
            out += [(w, w.item(i).text()) for i in range(w.count())]
        elif isinstance(w, QTreeWidget):
            stack = [w.topLevelItem(i) for i in range(w.topLevelItemCount())]
            while stack:
                item = stack.pop()
                out.append((w, item.text(0)))
                stack += [item.child(i) for i in range(item.childCount())]
    return out


def _missing(widget: QWidget, text: str) -> list[str]:
    raw = QRawFont.fromFont(widget.font())
    return [f"{ch!r} (U+{ord(ch):04X}) in {text!r}" for ch in text if ch.strip() and not raw.supportsCharacter(ord(ch))]


def _drawn(button: QAbstractButton) -> bool:
    image: QImage = button.icon().pixmap(QSize(24, 24)).toImage()
    return any(image.pixelColor(x, y).alpha() > 0 for x in range(image.width()) for y in range(image.height()))


def test_the_windows_text_and_icons_have_their_glyphs(qtbot: object) -> None:
    node, live = build_demo()
    try:
        w = build_window(node, live)
        qtbot.addWidget(w)  # type: ignore[attr-defined]
        w.resize(1280, 800)
        w.show()
        qtbot.wait(50)  # type: ignore[attr-defined]
        missing: list[str] = []
        for widget, text in _texts(w):
            missing += _missing(widget, text)
        room = w.session.room
        assert room is not None
        menus: list[QMenu] = [w.message_menu(w.model.message_at(w.model.rowCount() - 1)), w.rooms.menu()]
        other = next(m.key for m in room.members() if m.key != node.profile.public_key)
        menus.append(w.member_actions(other))
        for menu in menus:
            for action in menu.actions():
                if action.text() != "Add reaction":  # the quick reactions are emoji people send: content, not chrome
                    missing += _missing(menu, action.text())
        assert missing == [], "glyphs the UI font lacks (they show as empty boxes)"
        blank = [b.toolTip() or b.objectName() for b in w.findChildren(QAbstractButton)
                 if b.isVisibleTo(w) and not b.text() and not _drawn(b)]
        assert blank == [], "buttons with neither text nor a drawn icon"
    finally:
        node.close()


def test_every_named_icon_exists_in_the_icon_font(qapp: QApplication) -> None:
    for name in icons.NAMES:
        image = icons.pixmap(name, 20, "#ffffff").toImage()
        assert any(image.pixelColor(x, y).alpha() > 0 for x in range(20) for y in range(20)), name


def test_message_emoji_have_a_colour_emoji_font(qapp: QApplication) -> None:
    assert EMOJI_FONT in QFontDatabase.families(), "the colour emoji font is not installed (make system-deps)"
    from PySide6.QtGui import QFont

    raw = QRawFont.fromFont(QFont(EMOJI_FONT))
    for emoji in "🎉👍🔥👀😂":
        assert raw.supportsCharacter(ord(emoji)), emoji
    # and a message's emoji is drawn in colour, not as an outline or a box
    image = QImage(40, 40, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    from PySide6.QtGui import QPainter

    p = QPainter(image)
    p.setFont(QFont(EMOJI_FONT, 20))
    p.setPen(QColor("black"))
    p.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, "🎉")
    p.end()
    colours = {image.pixelColor(x, y).name() for x in range(40) for y in range(40) if image.pixelColor(x, y).alpha() > 200}
    assert len(colours) > 5, "the emoji was not drawn in colour"
