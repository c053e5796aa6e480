"""The exported log file: a room's keys and its signed entries, verifiable entry by entry on import.

Layout: a magic line, a length-prefixed JSON header (room id, name, the room keys by the
id of the rotation that brought each),
then length-prefixed sync ENTRIES frames. It holds the room keys, so whoever has the
file can read the room's history: it is written with mode 0600.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .entry import Entry
from .private_file import write_private
from .errors import DecodeError
from .jsonsafe import canonical_json, loads
from .sync import EntriesReceived, decode_frame, frames_for
from .varint import read_uint, write_uint

MAGIC = b"HUBBUB-LOG 2\n"
OLD_MAGIC = b"HUBBUB-LOG 1\n"
MAX_HEADER = 1 << 20
MAX_FILE_FRAME = 1 << 20


@dataclass(slots=True)
class LogFile:
    room_id: bytes
    name: str
    keys: dict[bytes, bytes]
    entries: list[Entry]
    bad_frames: int = 0


def write_log(path: Path, room_id: bytes, name: str, keys: dict[bytes, bytes], entries: list[Entry]) -> int:
    """Write the log file with mode 0600; returns its size in bytes."""
    header = canonical_json({"room_id": room_id.hex(), "name": name,
                             "keys": {r.hex(): k.hex() for r, k in sorted(keys.items())}})
    out = bytearray(MAGIC)
    write_uint(out, len(header))
    out += header
    for frame in frames_for(entries, MAX_FILE_FRAME):
        write_uint(out, len(frame))
        out += frame
    write_private(path, bytes(out))
    return len(out)


def read_log(data: bytes) -> LogFile:
    """Parse a log file. A damaged header raises DecodeError; damaged frames are counted and skipped."""
    if data.startswith(OLD_MAGIC):
        raise DecodeError("the log file was written by an older Hubbub, whose room format this version no longer reads")
    if not data.startswith(MAGIC):
        raise DecodeError("not a Hubbub log file")
    pos = len(MAGIC)
    hlen, pos = read_uint(data, pos)
    if hlen > MAX_HEADER or pos + hlen > len(data):
        raise DecodeError("the log file header is damaged")
    try:
        header = loads(data[pos:pos + hlen], "the log file header", max_depth=4)
        room_id = bytes.fromhex(header["room_id"])
        name = str(header.get("name", ""))[:100]
        keys = {bytes.fromhex(r): bytes.fromhex(k) for r, k in header["keys"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DecodeError("the log file header is damaged") from exc
    if len(room_id) != 32 or any(len(k) != 32 or len(r) != 32 for r, k in keys.items()):
        raise DecodeError("the log file header is damaged")
    pos += hlen
    entries: list[Entry] = []
    bad = 0
    while pos < len(data):
        try:
            flen, pos = read_uint(data, pos)
        except DecodeError:
            bad += 1
            break
        if flen > MAX_FILE_FRAME or pos + flen > len(data):
            bad += 1
            break
        event = decode_frame(data[pos:pos + flen], MAX_FILE_FRAME)
        pos += flen
        if isinstance(event, EntriesReceived):
            entries.extend(event.entries)
        else:
            bad += 1
    return LogFile(room_id, name, keys, entries, bad)


def genesis_of(log: LogFile) -> Entry | None:
    for e in log.entries:
        if e.seq == 0 and not e.deps and e.hash == log.room_id:
            return e
    return None


__all__ = ["LogFile", "write_log", "read_log", "genesis_of"]
