"""First run: the name dialog creates the profile silently, and the window lands in the empty state."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog

from app.profile import open_profile, profile_exists
from ui.desktop import build_window, first_run
from ui.widgets.dialogs import NameDialog

from .conftest import answer_dialog


def test_first_run_asks_a_name_and_lands_in_the_empty_state(qtbot: object, tmp_path: Path) -> None:
    profile_dir = tmp_path / "new"

    def fill(d: QDialog) -> None:
        assert isinstance(d, NameDialog)
        d.field.setText("Zoë")
        d.accept()

    answer_dialog(NameDialog, fill)
    node = first_run(profile_dir)
    assert node is not None
    try:
        assert profile_exists(profile_dir)
        assert node.profile.display_name == "Zoë"
        w = build_window(node)
        qtbot.addWidget(w)  # type: ignore[attr-defined]
        w.show()
        assert w.stack.currentWidget() is w.empty
        assert w.empty_create.isVisible() and w.empty_join.isVisible()
        w.close()
    finally:
        node.close()
    assert open_profile(profile_dir, create=False).display_name == "Zoë"


def test_cancelling_first_run_creates_nothing(qtbot: object, tmp_path: Path) -> None:
    profile_dir = tmp_path / "new"
    answer_dialog(NameDialog, lambda d: d.reject())
    assert first_run(profile_dir) is None
    assert not profile_exists(profile_dir)


def test_an_empty_name_is_refused_inline(qtbot: object) -> None:
    from ui.widgets.dialogs import first_run_dialog

    d = first_run_dialog()
    qtbot.addWidget(d)  # type: ignore[attr-defined]
    d.show()
    d.accept()
    assert d.result() == 0 and d.isVisible() and d.error.isVisible()
