"""The room browser tells look-alike public rooms apart: fingerprints, unverified counts, "2 rooms named lobby"."""

from __future__ import annotations

import os

from ui.services import PublicRoom
from ui.state.public_rooms import browser_lines, fingerprint

OWNER, MALLORY = os.urandom(32), os.urandom(32)
REAL = PublicRoom(os.urandom(32), "lobby", ("games", "lan"), 12, owner_key=OWNER, owner_name="Alice", announcer_key=OWNER)
FAKE = PublicRoom(os.urandom(32), "lobby", ("games", "lan"), 40, owner_key=MALLORY, owner_name="Alice",
                  announcer_key=MALLORY)


def test_look_alikes_get_different_lines_and_are_marked() -> None:
    lines = browser_lines([FAKE, REAL])
    assert len(lines) == 2 and lines[0].text() != lines[1].text()
    for line, room in ((next(l for l in lines if l.room_id == r.room_id), r) for r in (REAL, FAKE)):
        assert fingerprint(room.room_id) in line.detail and fingerprint(room.owner_key) in line.detail
        assert "Alice" in line.detail and "(unverified)" in line.detail and "#games" in line.detail
        assert line.warning.startswith("⚠ 2 rooms named lobby")
    assert fingerprint(OWNER) != fingerprint(MALLORY) and len(fingerprint(OWNER)) == 9


def test_a_room_announced_by_several_members_is_one_line_and_its_owner_announcement_wins() -> None:
    member = os.urandom(32)
    by_member = PublicRoom(REAL.room_id, "lobby", (), 11, owner_key=OWNER, owner_name="Alice", announcer_key=member)
    lines = browser_lines([by_member, REAL, PublicRoom(os.urandom(32), "other", (), 1)])
    assert [l.title for l in lines] == ["lobby", "other"]
    assert "12 members" in lines[0].detail and "announced by" not in lines[0].detail and not lines[0].warning
    assert "owner unknown" in lines[1].detail
    only_member = browser_lines([by_member])[0]
    assert f"announced by {fingerprint(member)}" in only_member.detail


def test_the_browser_dialog_shows_the_lines(qtbot: object) -> None:
    from PySide6.QtCore import Qt

    from ui.widgets.room_browser import RoomBrowser

    dialog = RoomBrowser([REAL, FAKE])
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert len(texts) == 2 and all("2 rooms named lobby" in t for t in texts)
    ids = {dialog.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.list.count())}
    assert ids == {REAL.room_id, FAKE.room_id}
