"""Painting a message's files inside its row: pictures (blurhash, then the thumbnail, then the picture) and file
cards (icon, name, size, a progress bar while fetching, "Save as…" and "Open"), and what a click lands on."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath

from app.files.manifest import Manifest

from ..state.attachments import AttachmentsState
from ..theme import Theme

PIC_W, PIC_H = 360, 260
CARD_W, CARD_H = 340, 58
GAP = 6
BLUR = 32  # the blurhash is decoded this wide and scaled


@dataclass(slots=True)
class Placed:
    """One file of a row and where it is painted (relative to the row)."""

    manifest: Manifest
    rect: QRect
    save: QRect | None = None
    open: QRect | None = None


def picture_size(m: Manifest, width: int) -> tuple[int, int]:
    """The size a picture is shown at: its own, shrunk to fit PIC_W x PIC_H and the row."""
    w, h = max(1, m.width), max(1, m.height)
    scale = min(1.0, PIC_W / w, PIC_H / h, max(80, width) / w)
    return max(40, int(w * scale)), max(30, int(h * scale))


def layout(files: list[Manifest], x: int, y: int, width: int) -> list[Placed]:
    out: list[Placed] = []
    for m in files:
        if m.is_picture:
            w, h = picture_size(m, width)
            out.append(Placed(m, QRect(x, y, w, h)))
            y += h + GAP
        else:
            w = min(CARD_W, max(200, width))
            card = QRect(x, y, w, CARD_H)
            save = QRect(card.right() - 118, card.top() + 8, 60, 20)
            opener = QRect(card.right() - 52, card.top() + 8, 44, 20)
            out.append(Placed(m, card, save, opener))
            y += CARD_H + GAP
    return out


def bottom(placed: list[Placed]) -> int:
    return max((p.rect.bottom() for p in placed), default=0)


def hit(placed: list[Placed], x: int, y: int) -> tuple[str, Manifest] | None:
    """("view" | "save" | "open", manifest) for a click at (x, y), or None."""
    for p in placed:
        if p.save is not None and p.save.contains(x, y):
            return ("save", p.manifest)
        if p.open is not None and p.open.contains(x, y):
            return ("open", p.manifest)
        if p.rect.contains(x, y):
            return ("view" if p.manifest.is_picture else "save", p.manifest)
    return None


def human_size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"


def icon_for(mime: str) -> str:
    kind = mime.split("/", 1)[0]
    if kind == "image":
        return "🖼"
    if kind == "video":
        return "🎞"
    if kind == "audio":
        return "🎵"
    if mime in ("application/zip", "application/x-tar", "application/gzip", "application/x-7z-compressed"):
        return "🗜"
    if mime == "application/pdf" or kind == "text":
        return "📄"
    return "📦"


def paint(p: QPainter, placed: list[Placed], state: AttachmentsState, theme: Theme, font: QFont, small: QFont) -> None:
    for item in placed:
        if item.manifest.is_picture:
            _picture(p, item, state, theme, small)
        else:
            _card(p, item, state, theme, font, small)


def _picture(p: QPainter, item: Placed, state: AttachmentsState, theme: Theme, small: QFont) -> None:
    m, r = item.manifest, item.rect
    image = state.picture(m) or state.thumbnail(m)
    if image is None:
        image = state.blur(m, BLUR, max(1, BLUR * r.height() // max(1, r.width())))
    p.save()
    if image is not None:
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(r, image)
    else:
        p.fillRect(r, QColor(theme.code_bg))
    if state.picture(m) is None:  # not here yet: say how big it is, and how far along
        held = state.held(m)
        label = human_size(m.size) if not state.fetching(m) else f"{100 * held // max(1, m.size)} %"
        p.setFont(small)
        tag = QRect(r.left() + 6, r.bottom() - 22, p.fontMetrics().horizontalAdvance(label) + 12, 18)
        p.setBrush(QColor(0, 0, 0, 140))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(QRectF(tag), 6, 6)
        p.setPen(QColor("#ffffff"))
        p.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
    p.restore()


def _card(p: QPainter, item: Placed, state: AttachmentsState, theme: Theme, font: QFont, small: QFont) -> None:
    m, r = item.manifest, item.rect
    p.save()
    p.setPen(QColor(theme.border))
    p.setBrush(QColor(theme.code_bg))
    p.drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
    icon = QFont(font)
    icon.setPointSizeF(font.pointSizeF() * 1.8)
    p.setFont(icon)
    p.setPen(QColor(theme.text))
    p.drawText(QRect(r.left() + 8, r.top(), 36, r.height()), Qt.AlignmentFlag.AlignCenter, icon_for(m.mime))
    text_w = (item.save.left() if item.save else r.right()) - r.left() - 56
    p.setFont(font)
    name = p.fontMetrics().elidedText(m.name, Qt.TextElideMode.ElideMiddle, max(20, text_w))
    p.drawText(QRect(r.left() + 50, r.top() + 8, text_w, 20), Qt.AlignmentFlag.AlignVCenter, name)
    held = state.held(m)
    p.setFont(small)
    p.setPen(QColor(theme.muted))
    size = human_size(m.size) if not state.fetching(m) else f"{human_size(held)} of {human_size(m.size)}"
    p.drawText(QRect(r.left() + 50, r.top() + 28, text_w, 16), Qt.AlignmentFlag.AlignVCenter, size)
    if state.fetching(m) or 0 < held < m.size:
        bar = QRect(r.left() + 50, r.bottom() - 9, r.width() - 62, 4)
        p.fillRect(bar, QColor(theme.border))
        p.fillRect(QRect(bar.left(), bar.top(), bar.width() * held // max(1, m.size), bar.height()),
                   QColor(theme.accent))
    for zone, label in ((item.save, "Save as…"), (item.open, "Open")):
        if zone is not None:
            p.setPen(QColor(theme.link))
            p.drawText(zone, Qt.AlignmentFlag.AlignCenter, label)
    p.restore()


def paint_round(p: QPainter, r: QRectF, image: QImage, radius: float | None = None) -> None:
    """A picture clipped to a circle (or a rounded square of `radius`): avatars and room icons."""
    p.save()
    path = QPainterPath()
    if radius is None:
        path.addEllipse(r)
    else:
        path.addRoundedRect(r, radius, radius)
    p.setClipPath(path)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    p.drawImage(r, image)
    p.restore()

