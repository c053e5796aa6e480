"""Pictures before sending: metadata (GPS, camera) removed, orientation applied; "send original" keeps the file."""

from __future__ import annotations

import io
from pathlib import Path

import blurhash
from PIL import Image

from app.files.pictures import THUMBNAIL_MAX, prepare
from tests.pictures import CAMERA, has_metadata, jpeg_with_gps, upright_red_on_top


def test_a_photo_loses_gps_and_camera_and_is_turned_upright(tmp_path: Path) -> None:
    src = jpeg_with_gps(tmp_path / "holiday.jpg")
    assert has_metadata(src.read_bytes()) and not upright_red_on_top(src.read_bytes())  # stored sideways
    prepared = prepare(src, tmp_path / "tmp")
    assert prepared.temporary and prepared.path != src
    data = prepared.path.read_bytes()
    assert not has_metadata(data)
    assert upright_red_on_top(data)
    assert (prepared.width, prepared.height) == (400, 600)  # upright: taller than wide
    assert prepared.mime == "image/jpeg" and prepared.name == "holiday.jpg"
    assert 0 < len(prepared.thumbnail) <= THUMBNAIL_MAX and not has_metadata(prepared.thumbnail)
    thumb = Image.open(io.BytesIO(prepared.thumbnail))
    assert thumb.height > thumb.width
    pixels = blurhash.decode(prepared.blurhash, 4, 6)
    assert pixels[0][1][0] > pixels[0][1][2]  # red on top
    assert pixels[-1][1][2] > pixels[-1][1][0]  # blue below


def test_send_original_keeps_the_file_as_it_is(tmp_path: Path) -> None:
    src = jpeg_with_gps(tmp_path / "holiday.jpg")
    prepared = prepare(src, tmp_path / "tmp", original=True)
    assert prepared.path == src and not prepared.temporary
    assert CAMERA.encode() in prepared.path.read_bytes()
    assert prepared.thumbnail and prepared.blurhash and (prepared.width, prepared.height) == (400, 600)


def test_a_file_that_is_not_a_picture_goes_as_it_is(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    prepared = prepare(src, tmp_path / "tmp")
    assert prepared.path == src and prepared.mime == "text/plain" and not prepared.width
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert prepare(broken, tmp_path / "tmp").mime == "image/png" and not prepare(broken, tmp_path / "tmp").width


def test_png_with_text_chunks_and_alpha_is_cleaned(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Canon EOS 5D")
    Image.new("RGBA", (50, 30), (0, 255, 0, 128)).save(tmp_path / "a.png", pnginfo=info)
    prepared = prepare(tmp_path / "a.png", tmp_path / "tmp")
    data = prepared.path.read_bytes()
    assert b"Canon" not in data and Image.open(io.BytesIO(data)).mode == "RGBA"
