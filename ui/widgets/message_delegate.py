"""The painter of one message row: date line, "new" line, avatar and name, reply quote, Markdown body, reaction chips."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (QAbstractTextDocumentLayout, QColor, QFont, QFontMetrics, QImage, QPainter, QPalette,
                           QTextDocument)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.files.manifest import Manifest
from app.models import Message, markdown_html, prepare_renderer

from .. import icons
from ..colours import author_colour, initials, name_colour, text_on
from ..state.attachments import AttachmentsState
from ..state.text import countdown, thread_summary
from ..theme import DARK, Theme
from .attachment_paint import Placed
from .attachment_paint import bottom as files_bottom
from .attachment_paint import layout as files_layout
from .attachment_paint import paint as paint_files
from .attachment_paint import paint_round
from .message_model import ROW_ROLE, Row

LEFT = 16
AVATAR = 40
BODY_X = LEFT + AVATAR + 16
RIGHT = 24
DAY_H = 40
NEW_H = 14
REPLY_H = 22
FWD_H = 20
HEADER_H = 22
CHIP_H = 26
CHIP_GAP = 6
THREAD_H = 22
MARK = 14  # the small icons in a row's header and forward line
@dataclass(slots=True)
class Geometry:
    """Where the clickable parts of a painted row are, relative to the row's rectangle."""

    reply: QRect | None = None
    chips: list[tuple[QRect, str]] = field(default_factory=list)
    thread: QRect | None = None  # the "N replies" line under a thread's root
    files: list[Placed] = field(default_factory=list)  # pictures and file cards (ui/widgets/attachment_paint.py)
    body_top: int = 0
    height: int = 0


class MessageDelegate(QStyledItemDelegate):
    """Paints rows of `MessageModel` in the style of a modern chat app."""

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK) -> None:
        super().__init__(parent)
        self.theme = theme
        self.me = ""
        self.hover_row = -1
        self._docs: OrderedDict[tuple[str, str, int, str], QTextDocument] = OrderedDict()
        self.base = QFont()
        self.bold = QFont(self.base)
        self.bold.setWeight(QFont.Weight.DemiBold)
        self.small = QFont(self.base)
        self.small.setPointSizeF(max(7.0, self.base.pointSizeF() * 0.8))
        prepare_renderer()  # markdown-it loads now, not in the middle of the first paint that needs it
        self.files: AttachmentsState | None = None  # set by FileWiring: how each message's files look now
        self.on_shown: Callable[[Message, Manifest], None] | None = None  # a file was painted (pictures auto-fetch)
        self.avatar_image: Callable[[str], QImage | None] | None = None  # an author's avatar, by short id
        self._epoch = 0  # heights cached in rows before the last forget_heights() are not used

    def forget_heights(self) -> None:
        """Measure every row again (a picture arrived whose size the cached heights did not know)."""
        self._epoch += 1

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._docs.clear()

    # ----- the body document ------------------------------------------------------------------

    def _document(self, row: Row, width: int) -> QTextDocument:
        msg = row.msg
        key = (msg.id, msg.text, width, self.theme.name + str(msg.edited))
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
            return doc
        t = self.theme
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(self.base)
        doc.setDefaultStyleSheet(
            f"a {{ color: {t.link}; text-decoration: none; }}"
            f"code {{ background-color: {t.rail}; color: {t.text}; font-family: 'DejaVu Sans Mono', monospace; }}"
            f"pre {{ background-color: {t.code_bg}; font-family: 'DejaVu Sans Mono', monospace; margin-top: 4px; margin-bottom: 4px; }}"
            f"pre code {{ background-color: {t.code_bg}; }}"
            f"blockquote {{ color: {t.muted}; margin-top: 2px; margin-bottom: 2px; margin-left: 10px; }}"
            "p { margin-top: 0px; margin-bottom: 4px; }"
            "ul, ol { margin-top: 2px; margin-bottom: 2px; margin-left: 0px; -qt-list-indent: 1; }"
        )
        if msg.deleted:
            body = f"<i style='color:{t.faint}'>This message was deleted.</i>"
        else:
            body = markdown_html(msg.text)
            if msg.edited:
                body += f" <span style='color:{t.faint}; font-size:small'>(edited)</span>"
        doc.setHtml(f"<div style='color:{t.text}'>{body}</div>")
        doc.setTextWidth(max(50, width))
        self._docs[key] = doc
        if len(self._docs) > 400:
            self._docs.popitem(last=False)
        return doc

    # ----- layout ----------------------------------------------------------------------------

    def _chips(self, row: Row, x: int, y: int, width: int) -> list[tuple[QRect, str]]:
        fm = QFontMetrics(self.base)
        out = []
        cx = x
        for emoji, who in row.msg.reactions.items():
            if not who:
                continue
            label = f"{emoji}  {len(who)}"
            w = fm.horizontalAdvance(label) + 20
            if cx + w > x + width and cx > x:
                cx = x
                y += CHIP_H + 4
            out.append((QRect(cx, y, w, CHIP_H), emoji))
            cx += w + CHIP_GAP
        return out

    def geometry(self, row: Row, width: int) -> Geometry:
        """Lay a row out for a viewport `width` (no painting)."""
        g = Geometry()
        y = 0
        if row.day_break:
            y += DAY_H
        elif row.new_line:
            y += NEW_H
        y += 2 if row.grouped else 12
        if row.reply:
            g.reply = QRect(BODY_X - 30, y, width - BODY_X - RIGHT + 30, REPLY_H)
            y += REPLY_H
        if row.msg.forward:
            y += FWD_H
        if not row.grouped:
            y += HEADER_H
        g.body_top = y
        body_w = width - BODY_X - RIGHT
        y += int(self._document(row, body_w).size().height()) + 2
        if row.msg.attachments and self.files is not None:
            g.files = files_layout(self.files.manifests(row.msg), BODY_X, y + 2, body_w)
            y = files_bottom(g.files) + 6 if g.files else y
        if row.msg.reactions:
            g.chips = self._chips(row, BODY_X, y + 4, body_w)
            y = max(r.bottom() for r, _ in g.chips) + 4 if g.chips else y
        if row.thread:
            g.thread = QRect(BODY_X, y + 2, min(body_w, 420), THREAD_H)
            y += THREAD_H + 4
        g.height = y + 2
        return g

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        row: Row = index.data(ROW_ROLE)
        width = option.rect.width() or 800  # type: ignore[attr-defined]
        key = (width, self._epoch)
        h = row.heights.get(key)
        if h is None:  # a changed message gets a new Row, so a cached height never outlives the content it measured
            h = row.heights[key] = self.geometry(row, width).height
        return QSize(width, h)

    # ----- painting ----------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        row: Row = index.data(ROW_ROLE)
        rect: QRect = option.rect  # type: ignore[attr-defined]
        t = self.theme
        g = self.geometry(row, rect.width())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(rect.topLeft())
        w = rect.width()
        top = 0
        if row.day_break:
            self._paint_day(painter, row.day_break, w, row.new_line)
            top = DAY_H
        elif row.new_line:
            self._paint_new(painter, w, NEW_H // 2)
            top = NEW_H
        msg_rect = QRect(0, top, w, g.height - top)
        if row.highlight:  # the message a search result or a link jumped to
            glow = QColor(t.mention_bar)
            glow.setAlpha(70)
            painter.fillRect(msg_rect, glow)
            painter.fillRect(QRect(0, top, 3, msg_rect.height()), QColor(t.mention_bar))
        elif row.mentions_me and not row.msg.deleted:
            painter.fillRect(msg_rect, QColor(t.mention_bg))
            painter.fillRect(QRect(0, top, 3, msg_rect.height()), QColor(t.mention_bar))
        elif index.row() == self.hover_row or option.state & QStyle.StateFlag.State_Selected:  # type: ignore[attr-defined]
            painter.fillRect(msg_rect, QColor(t.hover))
        y = top + (2 if row.grouped else 12)
        if row.reply:
            self._paint_reply(painter, row, y)
            y += REPLY_H
        if row.msg.forward:
            painter.setFont(self.small)
            painter.setPen(QColor(t.muted))
            painter.drawPixmap(BODY_X, y + (FWD_H - MARK) // 2, icons.pixmap("forward", MARK, t.muted))
            painter.drawText(QRect(BODY_X + MARK + 4, y, w - BODY_X - RIGHT - MARK - 4, FWD_H), Qt.AlignmentFlag.AlignVCenter,
                             self.forward_line(row))
            y += FWD_H
        if not row.grouped:
            self._paint_avatar(painter, row, y)
            self._paint_header(painter, row, y, w)
            y += HEADER_H
        elif index.row() == self.hover_row:
            painter.setFont(self.small)
            painter.setPen(QColor(t.faint))
            painter.drawText(QRect(0, y, BODY_X - 8, 20), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             datetime.fromtimestamp(row.msg.ts / 1000).strftime("%H:%M"))
        doc = self._document(row, w - BODY_X - RIGHT)
        painter.translate(BODY_X, g.body_top)
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.palette.setColor(QPalette.ColorRole.Text, QColor(t.text))
        doc.documentLayout().draw(painter, ctx)
        painter.translate(-BODY_X, -g.body_top)
        if g.files and self.files is not None:
            paint_files(painter, g.files, self.files, t, self.base, self.small)
            if self.on_shown is not None:
                for placed in g.files:
                    self.on_shown(row.msg, placed.manifest)
        for r, emoji in g.chips:
            self._paint_chip(painter, r, emoji, row)
        if row.thread and g.thread is not None:
            self._paint_thread(painter, g.thread, *row.thread)
        if row.expires is not None and not row.msg.deleted:
            self._paint_countdown(painter, row.expires, w, top + (2 if row.grouped else 12) + (REPLY_H if row.reply else 0))
        painter.restore()

    def _paint_thread(self, p: QPainter, r: QRect, replies: int, last: float) -> None:
        """Under a thread's root: an icon and "3 replies · last reply 5 min ago", in the link colour (a click opens it)."""
        p.drawPixmap(r.x(), r.y() + (THREAD_H - 16) // 2, icons.pixmap("thread", 16, self.theme.link))
        f = QFont(self.small)
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor(self.theme.link))
        p.drawText(QRect(r.x() + 22, r.y(), r.width() - 22, THREAD_H), Qt.AlignmentFlag.AlignVCenter,
                   thread_summary(replies, last, time.time() * 1000))

    def _paint_countdown(self, p: QPainter, expires: float, w: int, y: int) -> None:
        """A disappearing message's mark at the row's top right: a timer and what is left ("12m")."""
        left = countdown(expires - time.time() * 1000)
        p.setFont(self.small)
        tw = QFontMetrics(self.small).horizontalAdvance(left)
        x = w - RIGHT - tw - MARK - 4
        p.drawPixmap(x, y + (HEADER_H - MARK) // 2, icons.pixmap("timer", MARK, self.theme.faint))
        p.setPen(QColor(self.theme.faint))
        p.drawText(QRect(x + MARK + 4, y, tw + 2, HEADER_H), Qt.AlignmentFlag.AlignVCenter, left)

    @staticmethod
    def forward_line(row: Row) -> str:
        """The provenance line above a forwarded message ("" for one that was not forwarded)."""
        fwd = row.msg.forward
        if not fwd:
            return ""
        return f"Forwarded from {fwd.get('author', '?')} in {fwd.get('room', 'another room')}"

    def _paint_day(self, p: QPainter, day: str, w: int, new: bool) -> None:
        t = self.theme
        y = DAY_H // 2 + 4
        p.setFont(self.small)
        fm = QFontMetrics(self.small)
        tw = fm.horizontalAdvance(day) + 16
        colour = QColor(t.danger) if new else QColor(t.selected)
        p.setPen(colour)
        p.drawLine(LEFT, y, (w - tw) // 2, y)
        p.drawLine((w + tw) // 2, y, w - RIGHT, y)
        p.setPen(QColor(t.muted))
        p.drawText(QRect((w - tw) // 2, y - 10, tw, 20), Qt.AlignmentFlag.AlignCenter, day)
        if new:
            self._new_tag(p, w, y)

    def _paint_new(self, p: QPainter, w: int, y: int) -> None:
        p.setPen(QColor(self.theme.danger))
        p.drawLine(LEFT, y, w - RIGHT, y)
        self._new_tag(p, w, y)

    def _new_tag(self, p: QPainter, w: int, y: int) -> None:
        r = QRect(w - RIGHT - 38, y - 8, 38, 16)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.theme.danger))
        p.drawRoundedRect(r, 4, 4)
        p.setPen(QColor("white"))
        f = QFont(self.small)
        f.setBold(True)
        p.setFont(f)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, "NEW")

    def _paint_reply(self, p: QPainter, row: Row, y: int) -> None:
        t = self.theme
        assert row.reply is not None
        who, snippet = row.reply
        p.setPen(QColor(t.faint))
        mid = LEFT + AVATAR // 2
        p.drawLine(mid, y + REPLY_H - 2, mid, y + 10)
        p.drawLine(mid, y + 10, BODY_X - 8, y + 10)
        x = BODY_X
        p.setFont(self.small)
        if who:
            bold = QFont(self.small)
            bold.setBold(True)
            p.setFont(bold)
            p.setPen(name_colour(row.reply_author or who, t))
            label = "@" + who
            p.drawText(QRect(x, y, 400, REPLY_H - 2), Qt.AlignmentFlag.AlignVCenter, label)
            x += QFontMetrics(bold).horizontalAdvance(label) + 6
            p.setFont(self.small)
        p.setPen(QColor(t.muted))
        p.drawText(QRect(x, y, 2000, REPLY_H - 2), Qt.AlignmentFlag.AlignVCenter, snippet)

    def _paint_avatar(self, p: QPainter, row: Row, y: int) -> None:
        r = QRectF(LEFT, y, AVATAR, AVATAR)
        picture = self.avatar_image(row.msg.author) if self.avatar_image is not None else None
        if picture is not None:
            paint_round(p, r, picture)
            return
        p.setPen(Qt.PenStyle.NoPen)
        colour = author_colour(row.msg.author)
        p.setBrush(colour)
        p.drawEllipse(r)
        f = QFont(self.bold)
        f.setPointSizeF(self.base.pointSizeF() * 1.05)
        p.setFont(f)
        p.setPen(text_on(colour))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, initials(row.author))

    def _paint_header(self, p: QPainter, row: Row, y: int, w: int) -> None:
        t = self.theme
        p.setFont(self.bold)
        p.setPen(name_colour(row.msg.author, t) if not row.mine else QColor(t.text))
        p.drawText(QRect(BODY_X, y, w, HEADER_H), Qt.AlignmentFlag.AlignVCenter, row.author)
        x = BODY_X + QFontMetrics(self.bold).horizontalAdvance(row.author) + 8
        p.setFont(self.small)
        p.setPen(QColor(t.faint))
        when = datetime.fromtimestamp(row.msg.ts / 1000).strftime("%H:%M")
        fm = QFontMetrics(self.small)
        p.drawText(QRect(x, y + 1, w, HEADER_H), Qt.AlignmentFlag.AlignVCenter, when)
        x += fm.horizontalAdvance(when) + 10
        marks = ([("pinned", "pinned")] if row.msg.pinned else []) + ([("star", "")] if row.favorite else [])
        for icon_name, label in marks:
            x = self._paint_mark(p, icon_name, label, x, y, t.faint if icon_name != "star" else t.mention_bar) + 10

    def _paint_mark(self, p: QPainter, icon_name: str, label: str, x: int, y: int, colour: str) -> int:
        """A small icon (and its word) in the header line; returns where the next mark may start."""
        p.drawPixmap(x, y + (HEADER_H - MARK) // 2 + 1, icons.pixmap(icon_name, MARK, colour))
        x += MARK + 3
        if label:
            p.setPen(QColor(self.theme.faint))
            p.drawText(QRect(x, y + 1, 400, HEADER_H), Qt.AlignmentFlag.AlignVCenter, label)
            x += QFontMetrics(self.small).horizontalAdvance(label)
        return x

    def _paint_chip(self, p: QPainter, r: QRect, emoji: str, row: Row) -> None:
        t = self.theme
        who = row.msg.reactions.get(emoji, [])
        mine = self.me in who
        p.setPen(QColor(t.accent) if mine else QColor(t.border))
        p.setBrush(QColor(t.chip_mine) if mine else QColor(t.chip))
        p.drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        p.setFont(self.base)
        p.setPen(QColor(t.text))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, f"{emoji}  {len(who)}")

    def hit(self, row: Row, width: int, pos: QPoint) -> tuple[str, str] | None:
        """What a click at `pos` (relative to the row) lands on: ("reaction", emoji), ("reply", id), ("thread", root id),
        ("link", url) or None."""
        g = self.geometry(row, width)
        for r, emoji in g.chips:
            if r.contains(pos):
                return ("reaction", emoji)
        if g.reply is not None and g.reply.contains(pos) and row.msg.reply_to:
            return ("reply", row.msg.reply_to)
        if g.thread is not None and g.thread.contains(pos):
            return ("thread", row.msg.id)
        anchor = self._document(row, width - BODY_X - RIGHT).documentLayout().anchorAt(QPointF(pos.x() - BODY_X, pos.y() - g.body_top))
        if anchor:
            return ("link", anchor)
        return None

