"""UI icons, drawn from the Material Design Icons font that ships inside the qtawesome wheel.

Nothing here depends on a system font: toolbar, status and menu icons come from the icon font, and
emoji appear only in what people write (messages, reactions), drawn with the colour emoji font that
the Makefile installs. Buttons given an icon with `put` are repainted when the theme changes.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractButton

from .theme import DARK, Theme

# What the app calls each icon -> its Material Design Icons (v6) name.
NAMES = {
    "pin": "mdi6.pin-outline", "pinned": "mdi6.pin", "invite": "mdi6.account-plus", "members": "mdi6.account-multiple",
    "emoji": "mdi6.emoticon-outline", "close": "mdi6.close", "add": "mdi6.plus", "join": "mdi6.link-variant",
    "browse": "mdi6.compass-outline", "menu": "mdi6.chevron-down", "settings": "mdi6.cog", "mic": "mdi6.microphone",
    "mic_off": "mdi6.microphone-off", "no_mic": "mdi6.microphone-question", "headphones": "mdi6.headphones",
    "headphones_off": "mdi6.headphones-off", "hang_up": "mdi6.phone-hangup", "voice": "mdi6.volume-high",
    "text": "mdi6.pound", "speaking": "mdi6.circle", "quiet": "mdi6.circle-outline", "message": "mdi6.message-text-outline",
    "call": "mdi6.phone", "star": "mdi6.star", "favorites": "mdi6.star-outline", "forward": "mdi6.share",
    "thread": "mdi6.forum-outline", "timer": "mdi6.timer-outline", "keyboard": "mdi6.keyboard-outline",
    "remove": "mdi6.account-remove", "reply": "mdi6.reply", "at": "mdi6.at", "attach": "mdi6.paperclip", "file": "mdi6.file-outline",
    "route_lan": "mdi6.lan", "route_direct": "mdi6.earth", "route_turn": "mdi6.server-network",
}

_theme: Theme = DARK
_buttons: list[tuple[QAbstractButton, str, str | None, str | None]] = []


@functools.cache
def _icon_font() -> tuple[str, dict[str, int]]:
    """The Material Design Icons font from the qtawesome wheel, loaded into the application: (family, name -> code).

    Only this one font is loaded, and qtawesome's Python package is not imported: its import pulls in qtpy's
    wildcard imports of all of Qt and its first icon loads all ten of its fonts (together ~30 MB and ~150 ms
    of start-up here). Drawing a glyph in a colour is all an icon needs.
    """
    spec = importlib.util.find_spec("qtawesome")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise RuntimeError("qtawesome is not installed: the UI icons come from its Material Design Icons font.")
    fonts = Path(folders[0]) / "fonts"
    ttf = max(fonts.glob("materialdesignicons6-webfont-*.ttf"), default=None)
    charmap = max(fonts.glob("materialdesignicons6-webfont-charmap-*.json"), default=None)
    if ttf is None or charmap is None:
        raise RuntimeError(f"The Material Design Icons font is missing from {fonts}.")
    families = QFontDatabase.applicationFontFamilies(QFontDatabase.addApplicationFont(str(ttf)))
    if not families:
        raise RuntimeError(f"The icon font {ttf} cannot be loaded.")
    wanted = {full.split(".", 1)[1] for full in NAMES.values()}
    codes = {name: int(code, 16) for name, code in json.loads(charmap.read_text(encoding="utf-8")).items() if name in wanted}
    missing = wanted - set(codes)
    if missing:
        raise RuntimeError(f"The icon font has no {', '.join(sorted(missing))}.")
    return families[0], codes


class _GlyphEngine(QIconEngine):
    """Draws one glyph of the icon font, in a colour per mode (normal, under the mouse, disabled)."""

    def __init__(self, char: str, colours: dict[QIcon.Mode, str]) -> None:
        super().__init__()
        self.char, self.colours = char, colours

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        font = QFont(_icon_font()[0])
        font.setPixelSize(max(1, round(rect.height() * 0.9)))
        painter.save()
        painter.setFont(font)
        painter.setPen(QColor(self.colours.get(mode, self.colours[QIcon.Mode.Normal])))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.char)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pm = QPixmap(size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pm

    def clone(self) -> QIconEngine:
        return _GlyphEngine(self.char, self.colours)


def icon(name: str, colour: str | None = None) -> QIcon:
    """The named icon in `colour` (the theme's muted text by default; the text colour under the mouse)."""
    family, codes = _icon_font()
    code = codes[NAMES[name].split(".", 1)[1]]
    return QIcon(_GlyphEngine(chr(code), {QIcon.Mode.Normal: colour or _theme.muted, QIcon.Mode.Active: colour or _theme.text,
                                          QIcon.Mode.Selected: colour or _theme.text, QIcon.Mode.Disabled: _theme.faint}))


@functools.lru_cache(maxsize=256)
def pixmap(name: str, size: int, colour: str) -> QPixmap:
    """The named icon as a pixmap, for painters (message rows); made once per name, size and colour."""
    return icon(name, colour).pixmap(QSize(size, size))


def put(button: QAbstractButton, name: str, *, on: str | None = None, colour: str | None = None) -> None:
    """Give a button its icon (no text), and repaint it in the next theme too."""
    for i, (b, *_rest) in enumerate(_buttons):
        if b is button:
            del _buttons[i]
            break
    _buttons.append((button, name, on, colour))
    _apply(button, name, on, colour)


def _apply(button: QAbstractButton, name: str, on: str | None, colour: str | None) -> None:
    if on is not None:  # a checkable button shows `on` (in the warning colour) while checked
        qi = QIcon()
        for state, which, col in ((QIcon.State.Off, name, colour), (QIcon.State.On, on, _theme.danger)):
            src = icon(which, col)
            for mode in (QIcon.Mode.Normal, QIcon.Mode.Active, QIcon.Mode.Disabled):
                qi.addPixmap(src.pixmap(QSize(40, 40), mode, QIcon.State.Off), mode, state)
        button.setIcon(qi)
    else:
        button.setIcon(icon(name, colour))
    button.setText("")
    if button.iconSize().width() < 20:
        button.setIconSize(QSize(20, 20))


def use_theme(theme: Theme) -> None:
    """Draw icons in `theme` from now on, and repaint the buttons that have one."""
    global _theme
    _theme = theme
    from shiboken6 import isValid

    _buttons[:] = [entry for entry in _buttons if isValid(entry[0])]
    for button, name, on, colour in _buttons:
        _apply(button, name, on, colour)

