"""Ogg Opus files (RFC 7845): read one into 48 kHz mono samples, or write samples as one, for voice bots."""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt
import opuslib

from .codec import MAX_FILE_SECONDS, SAMPLE_RATE, Frame

PAGE_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, segments
FLAG_CONTINUED, FLAG_BOS, FLAG_EOS = 0x01, 0x02, 0x04
WRITE_FRAME = SAMPLE_RATE // 50  # 20 ms packets, as opusenc writes them
PRE_SKIP = 312  # the encoder's look-ahead at 48 kHz, as libopus reports it
MAX_PACKET = 1 << 20


class OggOpusError(ValueError):
    """A file that is not a readable Ogg Opus stream."""


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04C11DB7, no reflection)."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) ^ b) & 0xFF]
    return crc


def _packets(data: bytes) -> list[bytes]:
    """The packets of the first logical stream, checksums verified."""
    packets: list[bytes] = []
    partial = b""
    pos = 0
    serial: int | None = None
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS"[: len(data) - pos] or (pos == 0 and len(data) < 4):
            raise OggOpusError("not an Ogg stream")
        if pos + PAGE_HEADER.size > len(data):
            raise OggOpusError("the file ends in the middle of an Ogg page")
        capture, version, flags, _granule, page_serial, _seq, crc, nseg = PAGE_HEADER.unpack_from(data, pos)
        if capture != b"OggS" or version != 0:
            raise OggOpusError("not an Ogg stream")
        lacing = data[pos + PAGE_HEADER.size : pos + PAGE_HEADER.size + nseg]
        body_start = pos + PAGE_HEADER.size + nseg
        body_end = body_start + sum(lacing)
        if len(lacing) != nseg or body_end > len(data):
            raise OggOpusError("the file ends in the middle of an Ogg page")
        page = bytearray(data[pos:body_end])
        page[22:26] = b"\0\0\0\0"
        if ogg_crc(bytes(page)) != crc:
            raise OggOpusError("an Ogg page is damaged (checksum mismatch)")
        if serial is None:
            serial = page_serial
        if page_serial == serial:
            body = data[body_start:body_end]
            at = 0
            for size in lacing:
                partial += body[at : at + size]
                at += size
                if len(partial) > MAX_PACKET:
                    raise OggOpusError("an Ogg packet is implausibly large")
                if size < 255:
                    packets.append(partial)
                    partial = b""
        pos = body_end
    return packets


def read_ogg_opus(path: str | Path) -> Frame:
    """Decode an Ogg Opus file to 48 kHz mono int16 (channels averaged, pre-skip dropped)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise OggOpusError(f"cannot read {path}: {exc.strerror}") from exc
    return decode_ogg_opus(data, str(path))


def decode_ogg_opus(data: bytes, path: str = "the file") -> Frame:
    """Decode the bytes of an Ogg Opus file (see `read_ogg_opus`); `path` names it in errors.

    Raises OggOpusError and nothing else, whatever the bytes."""
    packets = _packets(data)
    if len(packets) < 2 or not packets[0].startswith(b"OpusHead") or not packets[1].startswith(b"OpusTags"):
        raise OggOpusError(f"{path} is not an Ogg Opus file")
    head = packets[0]
    if len(head) < 19:
        raise OggOpusError(f"{path} has a damaged Opus header")
    channels = head[9]
    pre_skip = struct.unpack_from("<H", head, 10)[0]
    if channels not in (1, 2):
        raise OggOpusError(f"{path} has {channels} channels; only mono and stereo are supported")
    decoder = opuslib.Decoder(SAMPLE_RATE, channels)
    chunks = []
    total = 0
    for packet in packets[2:]:
        try:
            pcm = decoder.decode(packet, 5760)  # up to 120 ms per packet
        except (opuslib.OpusError, ctypes.ArgumentError) as exc:
            raise OggOpusError(f"{path} holds a damaged Opus packet ({exc})") from exc
        total += len(pcm) // (2 * channels)
        if total > MAX_FILE_SECONDS * SAMPLE_RATE:  # a packet of 3 bytes can decode to 120 ms
            raise OggOpusError(f"{path} is longer than {MAX_FILE_SECONDS // 60} minutes")
        samples = np.frombuffer(pcm, dtype="<i2")
        if channels == 2:
            samples = samples.reshape(-1, 2).mean(axis=1).astype(np.int16)
        chunks.append(samples.astype(np.int16))
    out = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    return out[pre_skip:]


def _page(flags: int, granule: int, serial: int, sequence: int, packet: bytes) -> bytes:
    lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    header = PAGE_HEADER.pack(b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = bytearray(header + lacing + packet)
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    return bytes(page)


def write_ogg_opus(path: str | Path, pcm: npt.NDArray[np.int16], bitrate: int = 64_000) -> None:
    """Encode 48 kHz mono samples as an Ogg Opus file (20 ms packets)."""
    encoder = opuslib.Encoder(SAMPLE_RATE, 1, opuslib.APPLICATION_AUDIO)
    encoder.bitrate = bitrate
    samples = np.concatenate([np.zeros(0, dtype=np.int16), np.asarray(pcm, dtype=np.int16)])
    samples = np.concatenate([samples, np.zeros((-samples.size) % WRITE_FRAME + WRITE_FRAME, dtype=np.int16)])
    serial = int.from_bytes(os.urandom(4), "little")
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, PRE_SKIP, SAMPLE_RATE, 0, 0)
    vendor = b"hubbub"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [_page(FLAG_BOS, 0, serial, 0, head), _page(0, 0, serial, 1, tags)]
    frames = samples.reshape(-1, WRITE_FRAME)
    for i, frame in enumerate(frames):
        packet = encoder.encode(frame.astype("<i2").tobytes(), WRITE_FRAME)
        last = i == len(frames) - 1
        granule = min((i + 1) * WRITE_FRAME, int(np.asarray(pcm).size) + PRE_SKIP) if last else (i + 1) * WRITE_FRAME
        pages.append(_page(FLAG_EOS if last else 0, granule, serial, i + 2, packet))
    try:
        Path(path).write_bytes(b"".join(pages))
    except OSError as exc:
        raise OggOpusError(f"cannot write {path}: {exc.strerror}") from exc
