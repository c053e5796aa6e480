"""Menus offer only what my role allows: members pin and delete their own messages only, moderators others' too,
and only admins get room settings and member removal."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMenu

from app.models import Message, Role
from app.node import Node
from app.profile import open_profile
from ui.state.permissions import RoomRights, message_rights
from ui.widgets.main_window import MainWindow

from .conftest import carry


def _msg(author: str, **kw: object) -> Message:
    return Message(id=f"{author}1", author=author, channel="general", text="hi", ts=1.0, **kw)  # type: ignore[arg-type]


def test_message_rights_follow_the_role_rules() -> None:
    me, other = "me______", "other___"
    mine, theirs = _msg(me), _msg(other)
    member = message_rights(Role.MEMBER, me, theirs)
    assert member.reply and member.react and not member.pin and not member.delete and not member.edit
    own = message_rights(Role.MEMBER, me, mine)
    assert own.pin and own.delete and own.edit
    moderator = message_rights(Role.MODERATOR, me, theirs)
    assert moderator.pin and moderator.delete and not moderator.edit
    pinned_by_other = _msg(me, pinned=True, pin_ids=[other + "2"])
    assert not message_rights(Role.MEMBER, me, pinned_by_other).unpin
    assert message_rights(Role.MEMBER, me, _msg(me, pinned=True, pin_ids=[me + "2"])).unpin
    assert message_rights(None, me, mine) == message_rights(Role.OWNER, me, _msg(me, deleted=True))
    assert not message_rights(Role.MEMBER, me, _msg(other, forward={"room": "x"})).edit


def test_room_rights_follow_the_control_rules() -> None:
    admin = RoomRights(Role.ADMIN)
    assert admin.edit_room and admin.may_remove(Role.MODERATOR) and not admin.may_remove(Role.ADMIN)
    assert admin.roles_to_give() == [Role.MEMBER, Role.MODERATOR]
    owner = RoomRights(Role.OWNER)
    assert owner.may_remove(Role.ADMIN) and not owner.may_remove(Role.OWNER)
    member = RoomRights(Role.MEMBER)
    assert not member.edit_room and not member.may_remove(Role.MEMBER) and member.invite
    assert not RoomRights(Role.OWNER, direct=True).invite


def _texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if a.text()]


def test_a_member_is_offered_only_what_succeeds(qtbot: object, window: MainWindow, node: Node, tmp_path: Path) -> None:
    bob = Node(open_profile(tmp_path / "bob", display_name="bob"))
    try:
        room = bob.create_room("Bob's room")
        room.add_member(node.profile.public_key, "member", "alice")
        room.post("general", "bob's message")
        carry(bob, room.id, node, tmp_path)
    finally:
        bob.close()
    w = window
    w.session.rooms_changed.emit()
    w.session.select_room(room.id)
    qtbot.waitUntil(lambda: w.model.rowCount() == 1, timeout=2000)  # type: ignore[attr-defined]
    theirs = _texts(w.message_menu(w.model.message_at(0)))
    assert "Reply" in theirs and "Add reaction" in theirs
    assert "Pin" not in theirs and "Delete message" not in theirs and "Edit" not in theirs
    w.submit("alice's message")
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=2000)  # type: ignore[attr-defined]
    mine = _texts(w.message_menu(w.model.message_at(1)))
    assert "Pin" in mine and "Delete message" in mine and "Edit" in mine
    assert "Room settings" not in _texts(w.rooms.menu())
    bob_key = next(m.key for m in w.session.room.members() if m.name == "bob")  # type: ignore[union-attr]
    assert "Remove from room…" not in _texts(w.member_actions(bob_key))


def test_an_admin_removes_a_member_after_confirming(qtbot: object, window: MainWindow) -> None:
    from nacl.signing import SigningKey
    from PySide6.QtWidgets import QMessageBox

    from .conftest import answer_dialog

    w = window
    room = w.session.create_room("Party")
    bob = bytes(SigningKey.generate().verify_key)
    room.add_member(bob, "member", "bob")
    menu = w.member_actions(bob)
    remove = next(a for a in menu.actions() if a.text() == "Remove from room…")

    def click(box: QMessageBox, label: str) -> None:
        box.button(QMessageBox.StandardButton.Cancel).click() if label == "Cancel" else \
            next(b for b in box.buttons() if b.text() == label).click()

    answer_dialog(QMessageBox, lambda box: click(box, "Cancel"))  # type: ignore[arg-type]
    remove.trigger()
    assert bob in [m.key for m in room.members()]
    answer_dialog(QMessageBox, lambda box: click(box, "Remove"))  # type: ignore[arg-type]
    remove.trigger()
    assert bob not in [m.key for m in room.members()]
    qtbot.waitUntil(lambda: w.members.list.count() == 2, timeout=2000)  # type: ignore[attr-defined]  (a heading and me)
