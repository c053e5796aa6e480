"""Pictures before sending: orientation applied, every piece of metadata dropped (EXIF with GPS and camera, XMP, ICC,
comments, embedded thumbnails) by re-encoding with Pillow, and a small thumbnail and a blurhash for the manifest.

"Send original" sends the file's own bytes (metadata and all); it still gets a thumbnail and a blurhash, made from
the upright picture.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is imported where it is used: the CLI's quick commands need none of it
    from PIL.Image import Image as PilImage

log = logging.getLogger(__name__)

THUMBNAIL_MAX = 8192          # bytes (crdt/attachments.py MAX_THUMBNAIL)
THUMBNAIL_SIDES = (200, 160, 128, 96, 64, 48)
KEPT_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp"),
                "GIF": ("image/gif", ".gif")}
MAX_PIXELS = 100_000_000      # larger pictures are sent as plain files
MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")


@dataclass(frozen=True, slots=True)
class Prepared:
    """What to send for one file: the bytes on disk, its name and type, and for a picture its preview."""

    path: Path
    name: str
    mime: str
    width: int = 0
    height: int = 0
    thumbnail: bytes = b""
    blurhash: str = ""
    temporary: bool = False  # `path` is a re-encoded copy to delete after chunking


def guess_mime(name: str) -> str:
    mime = (mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream").lower()
    return mime if MIME.fullmatch(mime) else "application/octet-stream"


def prepare(path: Path, tmp_dir: Path, *, original: bool = False) -> Prepared:
    """A file ready to chunk: a picture re-encoded without metadata (unless `original`), any other file as it is."""
    name = path.name
    picture = _prepare_picture(path, tmp_dir, original)
    if picture is not None:
        return picture
    return Prepared(path, name, guess_mime(name))


def _prepare_picture(path: Path, tmp_dir: Path, original: bool) -> Prepared | None:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
            if im.width * im.height > MAX_PIXELS:
                return None
            fmt = str(im.format or "")
            animated = bool(getattr(im, "is_animated", False))
            upright = ImageOps.exif_transpose(im.copy() if not animated else _first_frame(im))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            SyntaxError, MemoryError):
        return None
    thumbnail, blurhash = preview(upright)
    width, height = upright.size
    if original:
        mime = KEPT_FORMATS[fmt][0] if fmt in KEPT_FORMATS else guess_mime(path.name)
        return Prepared(path, path.name, mime, width, height, thumbnail, blurhash)
    try:
        data, fmt_out = _reencode(im, upright, fmt, animated)
    except (OSError, ValueError) as exc:
        log.info("could not re-encode %s (%s); sending it as a plain file", path.name, exc)
        return None
    mime, ext = KEPT_FORMATS[fmt_out]
    stem = path.stem or "picture"
    name = stem + ext if path.suffix.lower() not in (ext, ".jpeg" if ext == ".jpg" else ext) else path.name
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_file(tmp_dir)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return Prepared(Path(tmp), name, mime, width, height, thumbnail, blurhash, temporary=True)


def _temp_file(folder: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(dir=folder, prefix="picture-")


def _first_frame(im: PilImage) -> PilImage:
    im.seek(0)
    return im.convert("RGBA")


def _clean(image: PilImage) -> PilImage:
    """A copy of the pixels with no metadata at all."""
    from PIL import Image

    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA")
        mode = "RGBA"
    return Image.frombytes(mode, image.size, image.tobytes())


def _reencode(im: PilImage, upright: PilImage, fmt: str, animated: bool) -> tuple[bytes, str]:
    """The picture's pixels in a fresh file of a kept format, with nothing else in it."""
    from PIL import ImageSequence

    out = io.BytesIO()
    if animated and fmt in ("GIF", "WEBP"):
        frames, durations = [], []
        for frame in ImageSequence.Iterator(im):
            frames.append(_clean(frame.convert("RGBA")))
            durations.append(int(frame.info.get("duration", 100) or 100))
        frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=durations,
                   loop=int(im.info.get("loop", 0) or 0), disposal=2)
        return out.getvalue(), fmt
    clean = _clean(upright)
    has_alpha = clean.mode in ("RGBA", "LA", "PA")
    if fmt not in KEPT_FORMATS or fmt == "GIF":
        fmt = "PNG" if has_alpha or fmt == "GIF" else "JPEG"
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.save(out, format="JPEG", quality=90, optimize=True)
    elif fmt == "WEBP":
        clean.save(out, format="WEBP", quality=90)
    else:
        clean.save(out, format="PNG", optimize=False)
    return out.getvalue(), fmt


def preview(upright: PilImage) -> tuple[bytes, str]:
    """A JPEG thumbnail of at most THUMBNAIL_MAX bytes and a blurhash of an upright picture."""
    import blurhash
    import numpy as np
    from PIL import Image

    rgb = upright.convert("RGBA")
    flat = Image.new("RGB", rgb.size, (255, 255, 255))
    flat.paste(rgb, mask=rgb.getchannel("A"))
    thumbnail = b""
    for side in THUMBNAIL_SIDES:
        small = flat.copy()
        small.thumbnail((side, side))
        for quality in (75, 55, 35):
            buf = io.BytesIO()
            small.save(buf, format="JPEG", quality=quality)
            if buf.tell() <= THUMBNAIL_MAX:
                thumbnail = buf.getvalue()
                break
        if thumbnail:
            break
    w, h = flat.size
    cx, cy = (4, 3) if w >= h else (3, 4)
    tiny = flat.resize((32, max(1, round(32 * h / w))) if w >= h else (max(1, round(32 * w / h)), 32))
    return thumbnail, str(blurhash.encode(np.asarray(tiny), cx, cy))
