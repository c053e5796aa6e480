"""Starting the desktop app: first-run dialog, the node, the window, and the asyncio loop inside Qt (qasync)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from app.errors import HubbubError
from app.node import Node
from app.profile import open_profile, profile_exists

from . import report
from .link_opener import LinkOpener
from .services import LiveService
from .single_instance import SingleInstance, pass_on
from .state.session import Session
from .theme import THEMES, apply_theme
from .widgets.dialogs import first_run_dialog
from .widgets.main_window import MainWindow

if TYPE_CHECKING:
    from .live import NetworkService as NetworkServiceType

SETTINGS_FILE = "ui.ini"


def application() -> QApplication:
    """The QApplication, created once."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Hubbub")
    app.setOrganizationName("Hubbub")
    app.setDesktopFileName("hubbub")
    return app


def build_window(node: Node, live: LiveService | None = None) -> MainWindow:
    """The main window over an open node, themed and showing the room used last (or the empty state)."""
    app = application()
    theme = THEMES.get(str(node.profile.settings.get("ui_theme", "dark")), THEMES["dark"])
    apply_theme(app, theme)
    session = Session(node, live)
    settings = QSettings(str(node.profile.path / SETTINGS_FILE), QSettings.Format.IniFormat)
    window = MainWindow(session, settings)
    last = session.last_room()
    if last is not None:
        session.select_room(last)
    session.attach_all_later()
    return window


def first_run(profile_dir: Path) -> Node | None:
    """Ask for a display name when the profile is new, then create it; None if the person cancels."""
    if profile_exists(profile_dir):
        return Node(open_profile(profile_dir))
    apply_theme(application(), THEMES["dark"])
    dialog = first_run_dialog()
    if not dialog.exec():
        return None
    return Node(open_profile(profile_dir, display_name=dialog.value))


def launch(profile_dir: Path, link: str | None = None, instance: SingleInstance | None = None) -> int:
    """Run the desktop app on a profile until its window closes; returns the exit status.

    With another app already running on the profile, hand it `link` (or just bring it to the front)
    and return at once (ui/single_instance.py). `instance` is the profile's lock when the caller
    took it already (ui/entry.py does, before importing this module).
    """
    if instance is None:
        instance = SingleInstance(profile_dir)
        if not instance.lock():
            return pass_on(profile_dir, link)
    app = application()
    report.install_from_env(app)
    instance.listen()
    opener = LinkOpener(app)
    instance.received.connect(opener.open)
    if link:
        opener.open(link)
    try:
        node = first_run(profile_dir)
    except HubbubError as exc:
        QMessageBox.critical(None, "Hubbub", str(exc))
        return 1
    if node is None:
        return 0
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    # Networking (aiortc, zeroconf) is imported here, not at module level, so build_window stays light.
    from app.service import NodeService

    from .live import NetworkService

    try:
        with loop:
            live = NetworkService(NodeService(node, mdns=True))
            window = build_window(node, live)
            window.show()
            opener.attach(window)
            loop.run_until_complete(run_network(live, closed))
    finally:
        instance.close()
        node.close()
    return 0


async def run_network(live: NetworkServiceType, closed: asyncio.Event) -> None:
    """Start the node's networking after the window is up, keep it until the app quits, then stop it cleanly."""
    await asyncio.sleep(0)  # let the first paint happen before sockets and mDNS start
    start = asyncio.ensure_future(live.async_start())
    try:
        await closed.wait()
    finally:
        if not start.done():
            start.cancel()
        try:
            await asyncio.wait_for(live.async_stop(), 5.0)
        except asyncio.TimeoutError:
            pass
