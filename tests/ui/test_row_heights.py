"""Row heights follow the content: a reaction, an edit, a reply, a code block or a narrower window grows the row,
and no row is drawn over the next."""

from __future__ import annotations

from PySide6.QtCore import QRect

from ui.widgets.main_window import MainWindow


def _rects(w: MainWindow) -> list[QRect]:
    return [w.view.visualRect(w.model.index(i)) for i in range(w.model.rowCount())]


def _no_overlap(w: MainWindow) -> None:
    rects = _rects(w)
    for i, (a, b) in enumerate(zip(rects, rects[1:])):
        assert a.bottom() < b.top(), f"row {i} ({a}) runs into row {i + 1} ({b})"
    for i in range(w.model.rowCount()):  # each rectangle holds what the painter lays out for the row
        row = w.model.row(i)
        assert rects[i].height() >= w.delegate.geometry(row, w.view.viewport().width()).height, f"row {i} is cut short"


def _settle(qtbot: object, w: MainWindow, rows: int) -> None:
    qtbot.waitUntil(lambda: w.model.rowCount() == rows, timeout=2000)  # type: ignore[attr-defined]
    qtbot.wait(30)  # type: ignore[attr-defined]  (the view lays items out on the next turn)


def test_rows_grow_with_reactions_edits_code_and_a_narrow_window(qtbot: object, window: MainWindow) -> None:
    w = window
    w.resize(1280, 800)
    room = w.session.create_room("Heights")
    first = room.post("general", "a short one")
    room.post("general", "the next message")
    _settle(qtbot, w, 2)
    before = _rects(w)[0].height()
    room.react(first, "🎉")
    qtbot.waitUntil(lambda: bool(w.model.message_at(0).reactions), timeout=2000)  # type: ignore[attr-defined]
    qtbot.wait(30)  # type: ignore[attr-defined]
    assert _rects(w)[0].height() > before, "the reaction chip did not make the row taller"
    _no_overlap(w)
    with_chip = _rects(w)[0].height()
    room.edit(first, "a short one\n```\nnow with\na code block\nof four lines\n```")
    qtbot.waitUntil(lambda: w.model.message_at(0).edited, timeout=2000)  # type: ignore[attr-defined]
    qtbot.wait(30)  # type: ignore[attr-defined]
    assert _rects(w)[0].height() > with_chip, "the edit did not make the row taller"
    _no_overlap(w)
    room.post("general", "a reply " + "with many words " * 12, reply_to=first)
    _settle(qtbot, w, 3)
    _no_overlap(w)
    wide = _rects(w)[2].height()
    w.resize(900, 800)
    qtbot.wait(60)  # type: ignore[attr-defined]
    assert _rects(w)[2].height() > wide, "the long reply did not wrap onto more lines in a narrower window"
    _no_overlap(w)


def test_a_reaction_on_a_row_out_of_sight_is_laid_out_when_scrolled_to(qtbot: object, window: MainWindow) -> None:
    w = window
    room = w.session.create_room("Long")
    ids = room.post_many("general", [f"message {i}" for i in range(50)])
    _settle(qtbot, w, 50)
    qtbot.waitUntil(w.view.at_bottom, timeout=2000)  # type: ignore[attr-defined]
    room.react(ids[0], "👍")  # the oldest row is neither visible nor among the newest: it is re-read when painted
    qtbot.wait(30)  # type: ignore[attr-defined]
    w.view.scrollToTop()
    qtbot.waitUntil(lambda: bool(w.model.message_at(0).reactions), timeout=2000)  # type: ignore[attr-defined]
    qtbot.wait(60)  # type: ignore[attr-defined]
    _no_overlap(w)
