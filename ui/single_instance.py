"""One desktop app per profile: the first start listens on a local socket; a later start hands it its link and exits.

The running app holds a lock file in the profile folder (`ui.lock`, a QLockFile: a lock whose process
died is taken over) and listens on `ui.sock` beside it (QLocalServer, owner-only), so the pair is per
user and per profile: two profiles run two apps side by side. A later start (a click on a
hubbub:// link, say) finds the lock taken, connects, sends one JSON line `{"link": "..."}` ("" when
it has none: the running app just comes to the front), waits for `ok`, and exits.

    instance = SingleInstance(profile_dir)
    if not instance.lock():              # before the QApplication and the widgets are even imported
        sys.exit(pass_on(profile_dir, link))
    ...                                  # create the QApplication
    instance.listen()
    instance.received.connect(open_link_in_window)
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

SOCKET_NAME = "ui.sock"
LOCK_NAME = "ui.lock"
MAX_MESSAGE = 16 * 1024
OK = b"ok\n"
REFUSED = b"refused\n"


def socket_path(profile_dir: Path) -> Path:
    return profile_dir / SOCKET_NAME


def encode(link: str | None) -> bytes:
    """The one line a later start sends."""
    return json.dumps({"link": link or ""}).encode("utf-8") + b"\n"


def decode(line: bytes) -> str | None:
    """The link in a line from a later start ("" for none), or None when the line is not one."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    link = message.get("link") if isinstance(message, dict) else None
    return link if isinstance(link, str) else None


class SingleInstance(QObject):
    """The running app's side: the profile's lock, and a local server that emits each later start's link."""

    received = Signal(str)  # a link a later start was given; "" when it had none (come to the front)

    def __init__(self, profile_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.profile_dir = profile_dir
        self._lock = QLockFile(str(profile_dir / LOCK_NAME))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, however long it has run
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """Become the profile's running app and listen; False when another app already is (then `hand_over`)."""
        if not self.lock():
            return False
        self.listen()
        return True

    def lock(self) -> bool:
        """Take the profile's lock (no QApplication needed yet); False when another live app holds it."""
        try:
            self.profile_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            log.warning("cannot create the profile folder %s (%s); not checking for another Hubbub",
                        self.profile_dir, exc.strerror)
            return True
        if self._lock.tryLock(0):
            return True
        if self._lock.error() == QLockFile.LockError.LockFailedError:
            return False
        log.warning("cannot write the lock file in %s; not checking for another Hubbub", self.profile_dir)
        return True

    def listen(self) -> None:
        """Listen for later starts (once the application object exists); a failure is logged, not fatal."""
        if not self._lock.isLocked() or self._server is not None:
            return
        path = str(socket_path(self.profile_dir))
        QLocalServer.removeServer(path)  # left by an app that died: we hold the lock, so it is not live
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.setMaxPendingConnections(8)
        if not server.listen(path):
            log.warning("cannot listen on %s (%s); later starts will not reach this one", path, server.errorString())
            return
        server.newConnection.connect(self._accept)
        self._server = server

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def close(self) -> None:
        """Stop listening and release the lock (the app is quitting)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    def _accept(self) -> None:
        assert self._server is not None
        while (sock := self._server.nextPendingConnection()) is not None:
            buffer = bytearray()
            sock.readyRead.connect(lambda s=sock, b=buffer: self._read(s, b))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket, buffer: bytearray) -> None:
        buffer += sock.readAll().data()
        end = buffer.find(b"\n")
        if end < 0 and len(buffer) <= MAX_MESSAGE:
            return  # the rest is on its way
        # A line, or more than a message may be without one: either way the answer does not depend on how the
        # bytes were split into reads (a long line cut before its end used to be aborted, whole refused).
        sock.readyRead.disconnect()
        link = decode(bytes(buffer[:end])) if 0 <= end <= MAX_MESSAGE else None
        sock.write(REFUSED if link is None else OK)
        sock.flush()
        sock.disconnectFromServer()
        if link is not None:
            self.received.emit(link)
        else:
            log.warning("ignored a message on %s that is not a link", SOCKET_NAME)


def pass_on(profile_dir: Path, link: str | None) -> int:
    """A later start: hand the running app our link and return 0; if it does not answer, say so in one sentence."""
    if hand_over(profile_dir, link):
        return 0
    text = "Hubbub is already open on this profile but did not answer; close it and try again."
    print(f"hubbub: {text}", file=sys.stderr)
    from PySide6.QtWidgets import QApplication, QMessageBox  # a click in a browser has no terminal to print to

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QMessageBox.critical(None, "Hubbub", text)
    return 1


def hand_over(profile_dir: Path, link: str | None, timeout: float = 5.0) -> bool:
    """Give the app running on this profile our link (or just bring it to the front); whether it confirmed."""
    path = str(socket_path(profile_dir))
    deadline = time.monotonic() + timeout
    sock = QLocalSocket()
    while True:  # the running app may hold the lock a moment before it listens
        sock.connectToServer(path)
        if sock.waitForConnected(int(max(0.05, deadline - time.monotonic()) * 1000)):
            break
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    sock.write(encode(link))
    sock.flush()
    reply = b""
    while b"\n" not in reply and time.monotonic() < deadline:
        if not sock.waitForReadyRead(int(max(0.05, deadline - time.monotonic()) * 1000)):
            break
        reply += sock.readAll().data()
    sock.disconnectFromServer()
    return reply.startswith(OK)
