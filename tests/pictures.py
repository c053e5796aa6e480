"""Test pictures: a JPEG with GPS and camera EXIF, stored sideways (orientation 6), red on its left, blue on its right."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import ExifTags, Image

CAMERA = "Canon EOS 5D"


def jpeg_with_gps(path: Path, size: tuple[int, int] = (600, 400)) -> Path:
    w, h = size
    im = Image.new("RGB", size, (255, 0, 0))
    im.paste((0, 0, 255), (w // 2, 0, w, h))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise: the stored left side is the top
    exif[0x010F] = "Canon"
    exif[0x0110] = CAMERA
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (52.0, 30.0, 7.5), 3: "E", 4: (13.0, 24.0, 1.0)})
    im.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    return path


def has_metadata(data: bytes) -> bool:
    """Whether a picture file still says where it was taken or with what."""
    im = Image.open(io.BytesIO(data))
    exif = im.getexif()
    return bool(exif) or b"Exif" in data or CAMERA.encode() in data or b"Canon" in data


def upright_red_on_top(data: bytes) -> bool:
    """The picture's stored pixels (ignoring any orientation tag) are upright: taller than wide, red at the top,
    blue at the bottom, as a viewer shows the test photo."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    top, bottom = im.getpixel((w // 2, h // 8)), im.getpixel((w // 2, h - h // 8))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    return h > w and top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]
