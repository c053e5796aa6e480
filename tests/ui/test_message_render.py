"""Message text in the app's rich text: lists bulleted, code styled, plain reply quotes, nothing loaded from a message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QImage, QPainter, QTextBlock, QTextCharFormat, QTextDocument, QTextListFormat

from app.models import Message, markdown_html
from tests.unit.html_oracle import href_problem, xss_vectors
from ui.theme import DARK, LIGHT, Theme
from ui.widgets.main_window import MainWindow
from ui.widgets.message_delegate import MessageDelegate
from ui.widgets.message_model import ROW_ROLE, Row


def row(text: str) -> Row:
    msg = Message(id="aa_aaaaaa:1", author="aa_aaaaaa", channel="general", text=text, ts=1.7e12)
    return Row(msg, "alice", False, "", False, False, False, None, False)


def blocks(doc: QTextDocument) -> Iterator[QTextBlock]:
    block = doc.begin()
    while block.isValid():
        yield block
        block = block.next()


def fragments(doc: QTextDocument) -> Iterator[tuple[str, QTextCharFormat]]:
    for block in blocks(doc):
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            yield frag.text(), frag.charFormat()
            it += 1


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 = the same, 21 = black on white)."""
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_lists_are_bulleted(qapp: object) -> None:
    """Issue 11, defect 10: `- ` lists were not bulleted."""
    doc = MessageDelegate()._document(row("- one\n- two\n\n1. first\n2. second"), 600)
    lists = [(b.text(), b.textList().format().style()) for b in blocks(doc) if b.textList() is not None]
    disc, decimal = QTextListFormat.Style.ListDisc, QTextListFormat.Style.ListDecimal
    assert lists == [("one", disc), ("two", disc), ("first", decimal), ("second", decimal)]


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=lambda t: t.name)
def test_inline_code_and_code_blocks_are_styled(qapp: object, theme: Theme) -> None:
    """Issue 11, defect 10: inline `code` must stand out from the text around it, in both themes."""
    doc = MessageDelegate(theme=theme)._document(row("run `make test` now\n```\nblock\n```"), 600)
    formats = dict(fragments(doc))
    code = formats["make test"]
    assert contrast(code.background().color(), QColor(theme.chat)) >= 1.2, "inline code hardly differs from the chat"
    assert any("mono" in f.lower() for f in code.fontFamilies() or [])
    pre = next(b for b in blocks(doc) if b.text() == "block")
    assert pre.blockFormat().background().color() == QColor(theme.code_bg)
    assert any("mono" in f.lower() for f in pre.charFormat().fontFamilies() or []) or \
        any("mono" in f.lower() for f in formats["block"].fontFamilies() or [])


def test_a_reply_quote_shows_the_text_without_markdown_marks(qtbot: object, window: MainWindow) -> None:
    """Issue 11, defect 10: the quote above a reply must not show raw `**`, the same as the export."""
    room = window.session.create_room("Quotes")
    first = room.post("general", "first with **bold**, ~~old~~, `code` and [a link](https://example.com)")
    room.post("general", "the reply", reply_to=first)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=2000)  # type: ignore[attr-defined]
    assert window.model.data(window.model.index(1), ROW_ROLE).reply == ("alice", "first with bold, old, code and a link")


class ProbeDocument(QTextDocument):
    """A document that records every resource Qt asks for (an <img>, a background, a style sheet)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def loadResource(self, kind: int, name: QUrl) -> object:  # noqa: N802 (Qt's name)
        self.asked.append(name.toString())
        return None


def laid_out_and_painted(doc: QTextDocument) -> None:
    doc.setTextWidth(600)
    image = QImage(600, max(1, min(4000, int(doc.size().height()))), QImage.Format.Format_RGB32)
    painter = QPainter(image)
    doc.drawContents(painter)
    painter.end()


def test_the_probe_sees_a_resource_load(qapp: object) -> None:
    """The check below can fail: raw HTML with an image does make Qt ask for the file."""
    doc = ProbeDocument()
    doc.setHtml('<img src="/etc/hostname"><div style="background-image:url(/etc/passwd)">x</div>')
    laid_out_and_painted(doc)
    assert doc.asked


@pytest.mark.parametrize("text", xss_vectors(), ids=lambda v: repr(v[:40]))
def test_a_vector_loads_nothing_and_links_only_allowed_schemes_in_qt(qapp: object, text: str) -> None:
    probe = ProbeDocument()
    probe.setHtml(f"<div>{markdown_html(text)}</div>")
    laid_out_and_painted(probe)
    assert probe.asked == []
    doc = MessageDelegate()._document(row(text), 600)
    for fragment_text, fmt in fragments(doc):
        assert not fmt.isImageFormat(), fragment_text
        if fmt.isAnchor():
            assert href_problem(fmt.anchorHref()) is None


def test_the_painter_loads_the_renderer_before_its_first_paint(qapp: object) -> None:
    """markdown-it's import (about 35 ms) happens when the painter is made, not inside a paint."""
    from app import render

    render._parser.cache_clear()
    render._cleaner.cache_clear()
    MessageDelegate()
    assert render._parser.cache_info().currsize == 1 and render._cleaner.cache_info().currsize == 1
