"""Files in the window, with a headless member on loopback (real aiortc and TCP): a picture shows its blurhash
then arrives by itself and opens large on a click and saves; a file card's "Save as…" fetches it with a progress
bar and writes the same bytes; a dropped file is attached and sent; a member's avatar arrives by itself."""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.files.manifest import Manifest
from app.files.profile_pictures import avatar_of, set_avatar
from app.models import Message, short_id
from tests.pictures import has_metadata, jpeg_with_gps
from tests.ui.test_network import connected_pair, qloop, stop, until  # noqa: F401 (qloop is a fixture)
from ui.widgets import file_wiring
from ui.widgets.attachment_paint import Placed
from ui.widgets.attachments import PictureDialog
from ui.widgets.main_window import MainWindow
from ui.widgets.message_model import ROW_ROLE

pytestmark = pytest.mark.timeout(120)


def placed_of(w: MainWindow, message_id: str) -> tuple[QPoint, list[Placed]]:
    row = w.model.row_of(message_id)
    assert row is not None
    idx = w.model.index(row)
    geometry = w.delegate.geometry(w.model.data(idx, ROW_ROLE), w.view.viewport().width())
    return w.view.visualRect(idx).topLeft(), list(geometry.files)


def click(w: MainWindow, message_id: str, which: int = 0, zone: str = "rect") -> None:
    top_left, placed = placed_of(w, message_id)
    target = getattr(placed[which], zone)
    QTest.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     top_left + target.center())


def test_pictures_and_files_in_the_window(qtbot: object, qloop: Callable[[Awaitable[None]], None], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        w, live, bob, room, broom = await connected_pair(tmp_path, qtbot)
        try:
            photo = jpeg_with_gps(tmp_path / "beach.jpg", (1200, 800))
            blob = tmp_path / "notes.bin"
            blob.write_bytes(os.urandom(5 * 2**20 + 17))
            pic_mid = await bob.files.async_send(broom, "general", "a photo", [photo])
            file_mid = await bob.files.async_send(broom, "general", "a file", [blob])
            await until(lambda: w.model.row_of(file_mid) is not None, "Bob's messages in the window")
            w.view.scrollToBottom()
            _, placed = placed_of(w, pic_mid)
            picture = placed[0].manifest
            assert isinstance(picture, Manifest) and picture.is_picture
            assert w.files.state.blur(picture, 32, 21) is not None and w.files.state.thumbnail(picture) is not None

            # The picture is under the size limit: being shown fetches it; a click opens it large.
            w.view.viewport().repaint()
            await until(lambda: w.files.state.picture(picture) is not None, "the picture to arrive by itself")
            click(w, pic_mid)
            viewer = w.files.viewer
            assert isinstance(viewer, PictureDialog) and viewer.isVisible()
            pixmap = viewer.label.pixmap()
            assert (pixmap.width(), pixmap.height()) == (800, 1200)  # upright
            saved: list[tuple[str, str]] = []
            w.files.state.saved.connect(lambda aid, path: saved.append((aid, path)))
            monkeypatch.setattr(file_wiring, "ask_save_path", lambda parent, name: tmp_path / "saved.jpg")
            viewer.save_requested.emit()
            await until(lambda: bool(saved), "the picture to be saved")
            data = (tmp_path / "saved.jpg").read_bytes()
            assert Image.open(io.BytesIO(data)).size == (800, 1200) and not has_metadata(data)
            viewer.close()

            # The file card: "Save as…" fetches it with a progress bar, then writes the same bytes.
            progress: list[tuple[str, int, int]] = []
            w.files.state.progress.connect(lambda aid, done, total: progress.append((aid, done, total)))
            monkeypatch.setattr(file_wiring, "ask_save_path", lambda parent, name: tmp_path / "notes-copy.bin")
            click(w, file_mid, 0, "save")
            await until(lambda: (tmp_path / "notes-copy.bin").exists(), "the file to be saved", 30)
            assert hashlib.sha256((tmp_path / "notes-copy.bin").read_bytes()).digest() == \
                hashlib.sha256(blob.read_bytes()).digest()
            steps = [done for _aid, done, _total in progress]
            assert len(steps) >= 3 and steps == sorted(steps) and steps[-1] == blob.stat().st_size

            # A file dropped on the message list is attached; Enter sends it; Bob can fetch it.
            dropped = tmp_path / "dropped.txt"
            dropped.write_text("dropped on the window")
            mime = QMimeData()
            mime.setUrls([QUrl.fromLocalFile(str(dropped))])
            with warnings.catch_warnings():  # PySide marks the QPoint constructor deprecated; it is the one there is
                warnings.simplefilter("ignore", DeprecationWarning)
                enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                        Qt.KeyboardModifier.NoModifier)
            assert QApplication.sendEvent(w.view.viewport(), enter) and enter.isAccepted()
            drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(w.view.viewport(), drop)
            assert [p.name for p in w.files.state.pending] == ["dropped.txt"] and w.files.strip.isVisible()
            QTest.keyClick(w.composer.edit, Qt.Key.Key_Return)
            assert not w.files.state.pending
            def dropped_at_bob() -> list[Message]:
                return [m for m in broom.history("general") if m.attachments and m.attachments[0]["n"] == "dropped.txt"]

            await until(lambda: bool(dropped_at_bob()), "the dropped file at Bob")
            sent = dropped_at_bob()[0]
            assert sent.author == w.session.me and sent.text == ""
            got = await bob.files.async_download(broom, bytes(sent.attachments[0]["h"]).hex(), tmp_path / "bob.txt")
            assert got is not None and got.read_text() == "dropped on the window"

            # Bob's avatar: in the member list and beside his messages once it arrives (it is fetched by itself).
            bob_short = short_id(bob.node.profile.public_key)
            set_avatar(bob.node, bob.files.store, photo)
            await until(lambda: avatar_of(room, bob_short) is not None, "Bob's avatar message in the window's room")
            w.files.state.forget_room(room.id)
            w._refresh_members()
            await until(lambda: w.files.state.avatar_image(room, bob_short) is not None, "Bob's avatar picture")
            picture = w.files.state.avatar_image(room, bob_short)
            assert picture is not None and (picture.width(), picture.height()) == (256, 256)
        finally:
            await stop(w, live, bob)

    qloop(scenario())
