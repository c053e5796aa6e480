"""Files in the window, as GUI logic (no widgets): what the composer will attach, what each message's files look
like now (blurhash, thumbnail, the picture), fetching with progress, "Save as…" and "Open".

Fetching and sending go through the node's `Files` part (app/files/part.py) when networking runs; offline, files
can still be attached (they are chunked into the profile and served once the node runs). Pictures up to
`files_autofetch_mb` (settings, default 8) are fetched when their message is first shown; larger files wait for a
click. Everything here runs on the Qt thread (the asyncio loop's, under qasync); results reach widgets as Signals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.errors import HubbubError
from app.files.assemble import assemble
from app.files.manifest import Manifest, manifests
from app.files.store import FileStore
from app.models import Message
from app.node import Node
from app.room import Room

from ..tasks import spawn

if TYPE_CHECKING:
    from app.files.part import Files

log = logging.getLogger(__name__)

AUTOFETCH_SETTING = "files_autofetch_mb"
AUTOFETCH_MB = 8
CACHE = 48  # decoded pictures kept


@dataclass(slots=True)
class Pending:
    """A file the composer will attach; `original` keeps a picture's metadata."""

    path: Path
    original: bool = False
    temporary: bool = False  # a pasted image, written to the profile's temporary folder

    @property
    def name(self) -> str:
        return self.path.name


class AttachmentsState(QObject):
    """Pending attachments, the look of each message's files, and fetching, saving and opening them."""

    pending_changed = Signal()
    progress = Signal(str, int, int)  # attachment id, bytes held, total
    picture_ready = Signal(str)  # attachment id: its whole picture is here
    saved = Signal(str, str)  # attachment id, path written
    opened = Signal(str, str)  # attachment id, path handed to the desktop
    error = Signal(str)

    def __init__(self, node: Node, files: Callable[[], Files | None]) -> None:
        super().__init__()
        self.node = node
        self._files = files
        self._store: FileStore | None = None
        self.pending: list[Pending] = []
        self._progress: dict[str, tuple[int, int]] = {}
        self._fetching: set[str] = set()
        self._pictures: OrderedDict[str, QImage] = OrderedDict()
        self._thumbs: dict[str, QImage] = {}
        self._blurs: dict[tuple[str, int, int], QImage] = {}
        self._avatars: dict[tuple[bytes, str], tuple[str, Manifest] | None] = {}
        self._icons: dict[bytes, Manifest | None] = {}
        self.open_with: Callable[[Path], None] = _open_on_desktop

    @property
    def store(self) -> FileStore:
        files = self._files()
        if files is not None:
            return files.store
        if self._store is None:
            self._store = FileStore(self.node.profile.path)
        return self._store

    @property
    def autofetch_bytes(self) -> int:
        value = self.node.profile.settings.get(AUTOFETCH_SETTING, AUTOFETCH_MB)
        return int(value * 2**20) if isinstance(value, (int, float)) and not isinstance(value, bool) else AUTOFETCH_MB << 20

    # ----- the composer --------------------------------------------------------------------

    def add_paths(self, paths: list[Path]) -> None:
        added = False
        for path in paths:
            if path.is_file() and all(p.path != path for p in self.pending):
                self.pending.append(Pending(path))
                added = True
            elif not path.is_file():
                self.error.emit(f"{path.name} is not a file, so it cannot be attached.")
        if added:
            self.pending_changed.emit()

    def add_image(self, image: QImage, name: str = "pasted.png") -> None:
        """An image from the clipboard: written as PNG to the profile's temporary folder, then attached."""
        fd, tmp = tempfile.mkstemp(dir=self.store.tmp, prefix="pasted-", suffix=".png")
        os.close(fd)
        if image.isNull() or not image.save(tmp, b"PNG"):
            os.unlink(tmp)
            self.error.emit("The pasted image could not be read.")
            return
        target = Path(tmp).with_name(name if name != "pasted.png" else Path(tmp).name)
        os.replace(tmp, target)
        self.pending.append(Pending(target, temporary=True))
        self.pending_changed.emit()

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.pending):
            gone = self.pending.pop(index)
            if gone.temporary:
                gone.path.unlink(missing_ok=True)
            self.pending_changed.emit()

    def set_original(self, index: int, on: bool) -> None:
        if 0 <= index < len(self.pending):
            self.pending[index].original = on
            self.pending_changed.emit()

    def send(self, room: Room, channel: str, text: str, **post: Any) -> bool:
        """Post `text` with the pending files (chunked off the loop); False when there are none."""
        if not self.pending:
            return False
        taken, self.pending = self.pending, []
        self.pending_changed.emit()
        paths = [p.path for p in taken]
        originals = frozenset(p.path for p in taken if p.original)
        files = self._files()

        async def run() -> None:
            try:
                if files is not None:
                    await files.async_send(room, channel, text, paths, originals=originals, **post)
                else:
                    from app.files.part import post_with_files
                    from app.files.sending import store_files

                    found = await asyncio.to_thread(store_files, self.store, room.id, paths, originals)
                    post_with_files(self.store, room, channel, text, found, **post)
            except HubbubError as exc:
                self.error.emit(str(exc))
            finally:
                for p in taken:
                    if p.temporary:
                        p.path.unlink(missing_ok=True)

        self._run(run())
        return True

    # ----- how a message's files look ---------------------------------------------------------

    @staticmethod
    def manifests(msg: Message) -> list[Manifest]:
        return manifests(msg.attachments) if msg.attachments and not msg.deleted else []

    def held(self, m: Manifest) -> int:
        if m.id in self._progress:
            return self._progress[m.id][0]
        return self.store.held_bytes(m.root, m.size)

    def fetching(self, m: Manifest) -> bool:
        return m.id in self._fetching

    def thumbnail(self, m: Manifest) -> QImage | None:
        if not m.thumbnail:
            return None
        image = self._thumbs.get(m.id)
        if image is None:
            image = QImage.fromData(m.thumbnail)
            if image.isNull():
                return None
            self._thumbs[m.id] = image
        return image

    def blur(self, m: Manifest, width: int, height: int) -> QImage | None:
        """The blurhash, decoded at a small size (the painter scales it)."""
        if not m.blurhash:
            return None
        key = (m.id, width, height)
        image = self._blurs.get(key)
        if image is None:
            image = blurhash_image(m.blurhash, width, height)
            if image is None:
                return None
            self._blurs[key] = image
        return image

    def picture(self, m: Manifest) -> QImage | None:
        """The whole picture once every chunk is here (decoded once, kept for the last few shown)."""
        image = self._pictures.get(m.id)
        if image is not None:
            self._pictures.move_to_end(m.id)
            return image
        if not m.is_picture or not self.store.complete(m.root, m.size):
            return None
        data = self._plaintext(m)
        if data is None:
            return None
        image = QImage.fromData(data)
        if image.isNull():
            return None
        self._pictures[m.id] = image
        while len(self._pictures) > CACHE:
            self._pictures.popitem(last=False)
        return image

    def _plaintext(self, m: Manifest) -> bytes | None:
        from app.files.chunks import ChunkError, open_chunk

        ids = self.store.ids(m.root)
        if ids is None:
            return None
        parts = []
        try:
            for i, cid in enumerate(ids):
                sealed = self.store.read_chunk(cid)
                if sealed is None:
                    return None
                parts.append(open_chunk(m.key, m.size, i, sealed))
        except ChunkError:
            return None
        return b"".join(parts)

    def shown(self, room: Room, message_id: str, m: Manifest) -> None:
        """A message's file is on screen: fetch a picture under the size limit (once)."""
        if (m.is_picture and m.size <= self.autofetch_bytes and m.id not in self._fetching
                and m.id not in self._pictures and self._files() is not None
                and not self.store.complete(m.root, m.size)):
            self.fetch(room, message_id, m)

    # ----- avatars and room icons -------------------------------------------------------------

    def avatar_image(self, room: Room, short: str) -> QImage | None:
        """A member's avatar in `room` (fetched by itself when missing; None until it is here)."""
        key = (room.id, short)
        if key not in self._avatars:
            from app.files.profile_pictures import avatar_of

            self._avatars[key] = avatar_of(room, short)
        found = self._avatars[key]
        return None if found is None else self._small_picture(room, found[0], found[1])

    def room_icon_image(self, room: Room) -> QImage | None:
        if room.id not in self._icons:
            from app.files.profile_pictures import room_icon

            self._icons[room.id] = room_icon(room)
        icon = self._icons[room.id]
        return None if icon is None else self._small_picture(room, "", icon)

    def _small_picture(self, room: Room, message_id: str, m: Manifest) -> QImage | None:
        image = self.picture(m)
        if image is None:
            self.shown(room, message_id, m)
        return image

    def forget_room(self, room_id: bytes) -> None:
        """A room changed: look for its avatars and icon again."""
        self._icons.pop(room_id, None)
        for key in [k for k in self._avatars if k[0] == room_id]:
            del self._avatars[key]

    # ----- fetching, saving, opening -----------------------------------------------------------

    def fetch(self, room: Room, message_id: str, m: Manifest,
              then: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Bring the file's chunks here (progress as Signals), then run `then`."""
        files = self._files()
        if files is None:
            self.error.emit("Fetching a file needs networking, which is not running.")
            return
        if m.id in self._fetching:
            return
        self._fetching.add(m.id)

        def step(done: int, total: int, sources: int) -> None:
            self._progress[m.id] = (done, total)
            self.progress.emit(m.id, done, total)

        async def run() -> None:
            try:
                await files.async_fetch(room, m, message_id, progress=step)
                self._progress[m.id] = (m.size, m.size)
                self.progress.emit(m.id, m.size, m.size)
                if m.is_picture:
                    self.picture_ready.emit(m.id)
                if then is not None:
                    await then()
            except HubbubError as exc:
                self.error.emit(str(exc))
            except Exception as exc:  # a fetch that failed: one sentence, never a traceback
                from app.files.part import fetch_sentence
                from app.files.transfer import FetchFailed

                self.error.emit(str(fetch_sentence(exc, m)) if isinstance(exc, FetchFailed) else
                                f"{m.name} could not be fetched ({exc}).")
            finally:
                self._fetching.discard(m.id)
                self._progress.pop(m.id, None)

        self._run(run())

    def save_as(self, room: Room, message_id: str, m: Manifest, target: Path) -> None:
        """Fetch if needed, then write the verified file to `target` (the file is then kept: pinned)."""
        async def write() -> None:
            ids = self.store.ids(m.root) or []
            path = await asyncio.to_thread(assemble, self.store, m, ids, target)
            self.store.pin(m.root)
            self.saved.emit(m.id, str(path))

        self._after_fetch(room, message_id, m, write)

    def open(self, room: Room, message_id: str, m: Manifest) -> None:
        """Fetch if needed, write it to the profile's open folder, and hand it to the desktop."""
        async def write() -> None:
            folder = self.store.base / "open" / m.id[:16]
            folder.mkdir(parents=True, exist_ok=True)
            ids = self.store.ids(m.root) or []
            path = await asyncio.to_thread(assemble, self.store, m, ids, folder)
            self.opened.emit(m.id, str(path))
            self.open_with(path)

        self._after_fetch(room, message_id, m, write)

    def _after_fetch(self, room: Room, message_id: str, m: Manifest,
                     then: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self.store.complete(m.root, m.size):
            async def now() -> None:
                try:
                    await then()
                except HubbubError as exc:
                    self.error.emit(str(exc))

            self._run(now())
        else:
            self.fetch(room, message_id, m, then)

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        spawn(coro)


def blurhash_image(text: str, width: int, height: int) -> QImage | None:
    """A blurhash decoded into a small RGB image (None if it does not decode)."""
    import blurhash

    try:
        pixels = blurhash.decode(text, max(1, width), max(1, height))
    except (ValueError, IndexError, TypeError):
        return None
    raw = bytes(max(0, min(255, int(round(c)))) for row in pixels for px in row for c in px[:3])
    image = QImage(raw, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels (`raw` goes away)


def _open_on_desktop(path: Path) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
