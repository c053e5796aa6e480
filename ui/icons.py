"""UI icons, drawn from the Material Design Icons font that ships inside the qtawesome wheel.

Nothing here depends on a system font: toolbar, status and menu icons come from the icon font, and
emoji appear only in what people write (messages, reactions), drawn with the colour emoji font that
the Makefile installs. Buttons given an icon with `put` are repainted when the theme changes.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap
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
    "remove": "mdi6.account-remove", "reply": "mdi6.reply", "at": "mdi6.at",
}

_theme: Theme = DARK
_buttons: list[tuple[QAbstractButton, str, str | None, str | None]] = []


def icon(name: str, colour: str | None = None) -> QIcon:
    """The named icon in `colour` (the theme's muted text by default; the text colour under the mouse)."""
    import qtawesome  # imported on first use: it loads its fonts into the running QApplication

    made: QIcon = qtawesome.icon(NAMES[name], color=colour or _theme.muted, color_active=colour or _theme.text,
                                 color_disabled=_theme.faint)
    return made


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

