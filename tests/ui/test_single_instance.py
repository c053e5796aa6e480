"""One app per profile: a second `hubbub LINK` hands its link to the running app and exits; links open the right dialog.

The running app is this test's process (its window over a real profile, the real local server);
the second start is a real `python -m ui.entry` process on the same profile. It never gets as far
as a node of its own (the lock is held here), and when root it runs in a network namespace anyway.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.links import message_link
from app.node import Node
from app.profile import open_profile
from tests.conftest import ROOT, is_root
from tests.unit.test_links import invite_link
from ui.desktop import build_window
from ui.link_opener import LinkOpener, open_link
from ui.single_instance import LOCK_NAME, MAX_MESSAGE, SingleInstance, hand_over, socket_path
from ui.widgets.dialogs import JoinDialog
from ui.widgets.main_window import MainWindow

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def running(qtbot: object, node: Node) -> Iterator[tuple[SingleInstance, MainWindow]]:
    """The app running on `node`'s profile: the instance lock and server, the window, links wired to it."""
    instance = SingleInstance(node.profile.path)
    assert instance.acquire() and instance.listening
    window = build_window(node)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    opener = LinkOpener()
    instance.received.connect(opener.open)
    opener.attach(window)
    yield instance, window
    instance.close()
    window.close()


def second_start(profile: Path, *args: str) -> subprocess.Popen[str]:
    """`hubbub --profile PROFILE ARGS` as a browser would start it, in its own network namespace when root."""
    wrap = ["unshare", "--net"] if is_root() and shutil.which("unshare") else []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.Popen([*wrap, sys.executable, "-m", "ui.entry", "--profile", str(profile), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


Capture = Callable[[type[QDialog]], list[str]]


@pytest.fixture
def capture() -> Iterator[Capture]:
    """`capture(kind)`: the text of each dialog of `kind` that opens from then on until the test ends.

    That is a message box's text or a join dialog's field; each dialog is closed as soon as it is seen.
    """
    watching = [True]

    def start(kind: type[QDialog]) -> list[str]:
        seen: list[str] = []

        def watch() -> None:
            if not watching[0]:
                return
            for w in QApplication.topLevelWidgets():
                if isinstance(w, kind) and w.isVisible():
                    seen.append(w.field.text() if isinstance(w, JoinDialog)
                                else w.text() if isinstance(w, QMessageBox) else "")
                    w.reject()
            QTimer.singleShot(10, watch)

        QTimer.singleShot(0, watch)
        return seen

    yield start
    watching[0] = False


def test_a_second_start_hands_its_link_to_the_running_app(qtbot: object, running: tuple[SingleInstance, MainWindow],
                                                          node: Node, capture: Capture) -> None:
    link = invite_link("Second start")
    dialogs = capture(JoinDialog)
    proc = second_start(node.profile.path, link)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)  # type: ignore[attr-defined]
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and out == ""
    qtbot.waitUntil(lambda: bool(dialogs), timeout=10_000)  # type: ignore[attr-defined]
    assert dialogs == [link]


def test_a_second_start_without_a_link_only_raises_the_window(qtbot: object,
                                                              running: tuple[SingleInstance, MainWindow]) -> None:
    instance, _ = running
    got: list[str] = []
    instance.received.connect(got.append)
    proc = second_start(instance.profile_dir)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.communicate()[1]
    assert got == [""]


def test_an_app_that_died_leaves_a_lock_the_next_start_takes_over(qtbot: object, tmp_path: Path) -> None:
    profile = tmp_path / "p"
    code = ("import os, sys; from pathlib import Path; from PySide6.QtCore import QCoreApplication; "
            "from ui.single_instance import SingleInstance; app = QCoreApplication([]); "
            f"inst = SingleInstance(Path({str(profile)!r})); ok = inst.acquire(); os._exit(0 if ok else 3)")
    died = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60)
    assert died.returncode == 0
    assert (profile / LOCK_NAME).exists() and socket_path(profile).exists()  # left behind by os._exit
    assert not hand_over(profile, "", timeout=0.5)  # nobody answers on the dead app's socket
    instance = SingleInstance(profile)
    try:
        assert instance.acquire() and instance.listening
        assert not SingleInstance(profile).acquire()  # and now it is taken, by a live process
    finally:
        instance.close()


def raw_exchange(path: Path, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        try:
            s.sendall(data)
            return s.recv(100)
        except OSError:
            return b""


def test_what_is_not_a_link_message_is_refused_and_never_emitted(qtbot: object, tmp_path: Path) -> None:
    instance = SingleInstance(tmp_path / "p")
    assert instance.acquire()
    got: list[str] = []
    instance.received.connect(got.append)
    replies: list[bytes] = []
    sends = [b"not json\n", b'{"link": 5}\n', b"\xff\xfe\n", b"[" * 100_000 + b"\n", b"x" * (MAX_MESSAGE + 10)]

    def client() -> None:
        for data in sends:
            replies.append(raw_exchange(socket_path(instance.profile_dir), data))

    thread = threading.Thread(target=client)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=30_000)  # type: ignore[attr-defined]
    assert replies == [b"refused\n"] * 5  # the oversized ones too, however their bytes arrive
    assert got == []
    instance.close()


def test_links_open_what_they_point_to(qtbot: object, window: MainWindow, node: Node, capture: Capture) -> None:
    room = node.create_room("Pinned")
    mid = room.post("general", "look at this one")
    window.session.rooms_changed.emit()
    window.session.select_room(None)
    open_link(window, message_link(room.id, mid))
    assert window.session.room is not None and window.session.room.id == room.id
    assert window.session.channel == room.find_channel("general").id
    assert mid in [m.id for m in window.model.messages()]
    errors = capture(QMessageBox)
    open_link(window, "hubbub://call/nobody")
    open_link(window, message_link(bytes(32), mid))
    qtbot.waitUntil(lambda: len(errors) == 2)  # type: ignore[attr-defined]
    assert "does not know this kind" in errors[0] and errors[1] == "That message is in a room you are not in."
    joins = capture(JoinDialog)
    own = node.invite(room, 3600).link()
    open_link(window, own)  # a room I am in: selected, no dialog and no second join
    qtbot.wait(100)  # type: ignore[attr-defined]
    assert joins == [] and window.session.room is not None and window.session.room.id == room.id


def test_links_that_come_before_the_window_wait_for_it(qtbot: object, window: MainWindow, capture: Capture) -> None:
    opener = LinkOpener()
    first, second = invite_link("one"), invite_link("two")
    opener.open(first)  # while the first-run dialog is up, say
    opener.open(second)
    joins = capture(JoinDialog)
    qtbot.wait(50)  # type: ignore[attr-defined]
    assert joins == [] and opener.pending == [first, second]
    opener.attach(window)
    qtbot.waitUntil(lambda: len(joins) == 2)  # type: ignore[attr-defined]
    assert joins == [first, second]
