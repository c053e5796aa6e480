"""People's colours: one stable colour per member for avatars and names, kept readable on the theme's background."""

from __future__ import annotations

import hashlib

from PySide6.QtGui import QColor

from .theme import Theme

AUTHOR_COLOURS = ("#f47fff", "#57f287", "#fee75c", "#eb459e", "#5865f2", "#3ba55c", "#faa61a", "#00b0f4", "#ed4245", "#9b84ec")
MIN_CONTRAST = 4.5  # WCAG AA for normal text


def author_colour(short: str) -> QColor:
    """A stable colour per member (by short id), as chat apps give each name; the same in every view."""
    return QColor(AUTHOR_COLOURS[hashlib.blake2s(short.encode(), digest_size=1).digest()[0] % len(AUTHOR_COLOURS)])


def _luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else float(((v + 0.055) / 1.055) ** 2.4)

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def name_colour(short: str, theme: Theme) -> QColor:
    """A member's colour for text (names), darkened or lightened until it reads on the theme's background."""
    colour, background = author_colour(short), QColor(theme.chat)
    darker = _luminance(background) > 0.5
    for _ in range(12):
        if contrast(colour, background) >= MIN_CONTRAST:
            break
        colour = colour.darker(115) if darker else colour.lighter(115)
    return colour


def text_on(colour: QColor) -> QColor:
    """White or near-black, whichever reads better on `colour` (initials on an avatar)."""
    return QColor("#ffffff") if contrast(QColor("#ffffff"), colour) >= contrast(QColor("#1e1f22"), colour) else QColor("#1e1f22")


def initials(name: str) -> str:
    parts = [p for p in name.replace("_", " ").split() if p]
    if not parts:
        return "?"
    return (parts[0][0] + (parts[1][0] if len(parts) > 1 else "")).upper()
