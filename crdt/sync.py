"""The sans-IO sync protocol: peers exchange heads, then push each other the entries the other lacks.

Bytes in, events and bytes out; no sockets, no clocks. The same frames carry
live fan-out of new entries, catch-up after being offline, and the contents of an
exported log file. Frames are versioned and size-capped, and a malformed frame is
reported as an event, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .entry import KEY_SIZE, MAX_ENTRY_SIZE, Entry, decode_entry
from .errors import DecodeError
from .varint import read_uint, write_uint

SYNC_VERSION = 1
MAX_FRAME = 256 * 1024
FRAME_HEADS = 1
FRAME_ENTRIES = 2
MAX_HEADS = 10_000


class EntrySource(Protocol):
    """Read access to the entries one replica holds."""

    def heads(self) -> dict[bytes, int]: ...

    def entries(self, author: bytes, from_seq: int, limit: int) -> list[Entry]: ...


@dataclass(frozen=True, slots=True)
class HeadsReceived:
    """The peer told us the newest sequence number it holds per author."""

    heads: dict[bytes, int]


@dataclass(frozen=True, slots=True)
class EntriesReceived:
    """The peer sent entries; they still need validating."""

    entries: list[Entry]


@dataclass(frozen=True, slots=True)
class FrameRejected:
    """A frame from the peer was malformed; `reason` says how."""

    reason: str


SyncEvent = HeadsReceived | EntriesReceived | FrameRejected


def encode_heads(heads: dict[bytes, int]) -> bytes:
    out = bytearray((SYNC_VERSION, FRAME_HEADS))
    write_uint(out, len(heads))
    for author in sorted(heads):
        out += author
        write_uint(out, heads[author])
    return bytes(out)


def encode_entries(entries: list[bytes]) -> bytes:
    out = bytearray((SYNC_VERSION, FRAME_ENTRIES))
    write_uint(out, len(entries))
    for raw in entries:
        write_uint(out, len(raw))
        out += raw
    return bytes(out)


def decode_frame(frame: bytes, max_frame: int = MAX_FRAME) -> SyncEvent:
    """Parse one sync frame; malformed input becomes a FrameRejected event."""
    try:
        if len(frame) > max_frame:
            raise DecodeError("frame is larger than the cap")
        if len(frame) < 2 or frame[0] != SYNC_VERSION:
            raise DecodeError("unknown sync frame version")
        kind = frame[1]
        count, pos = read_uint(frame, 2)
        if kind == FRAME_HEADS:
            if count > MAX_HEADS:
                raise DecodeError("too many heads")
            heads: dict[bytes, int] = {}
            for _ in range(count):
                if pos + KEY_SIZE > len(frame):
                    raise DecodeError("heads frame is truncated")
                author = bytes(frame[pos : pos + KEY_SIZE])
                seq, pos = read_uint(frame, pos + KEY_SIZE)
                heads[author] = seq
            if pos != len(frame):
                raise DecodeError("trailing bytes in heads frame")
            return HeadsReceived(heads)
        if kind == FRAME_ENTRIES:
            entries = []
            for _ in range(count):
                length, pos = read_uint(frame, pos)
                if length > MAX_ENTRY_SIZE or pos + length > len(frame):
                    raise DecodeError("entry overruns the frame")
                entry, end = decode_entry(frame, pos)
                if end != pos + length:
                    raise DecodeError("an entry's length does not match its contents")
                entries.append(entry)
                pos = end
            if pos != len(frame):
                raise DecodeError("trailing bytes in entries frame")
            return EntriesReceived(entries)
        raise DecodeError(f"unknown sync frame type {kind}")
    except DecodeError as exc:
        return FrameRejected(str(exc))


def frames_for(entries: Iterable[Entry], max_frame: int = MAX_FRAME) -> list[bytes]:
    """Pack entries into as few ENTRIES frames as fit under the cap."""
    frames: list[bytes] = []
    batch: list[bytes] = []
    size = 16
    for e in entries:
        raw = e.encode()
        if batch and size + len(raw) + 5 > max_frame:
            frames.append(encode_entries(batch))
            batch, size = [], 16
        batch.append(raw)
        size += len(raw) + 5
    if batch:
        frames.append(encode_entries(batch))
    return frames


class SyncProtocol:
    """One replica's side of a sync conversation with one peer about one room."""

    def __init__(self, source: EntrySource, max_frame: int = MAX_FRAME, batch_entries: int = 4000) -> None:
        self.source = source
        self.max_frame = max_frame
        self.batch_entries = batch_entries
        self.peer_heads: dict[bytes, int] = {}
        self._outbox: list[bytes] = []
        self._backlog: dict[bytes, int] = {}  # author -> next seq the peer needs from us
        self.bad_frames = 0

    # ----- outgoing --------------------------------------------------------------------

    def open(self) -> None:
        """Start (or restart) the conversation by telling the peer our heads."""
        self._outbox.append(encode_heads(self.source.heads()))

    def announce(self, entries: list[Entry]) -> None:
        """Push new entries the peer does not have yet (live fan-out)."""
        fresh = [e for e in entries if self.peer_heads.get(e.author, -1) < e.seq and e.author not in self._backlog]
        for e in fresh:
            if self.peer_heads.get(e.author, -1) == e.seq - 1:
                self.peer_heads[e.author] = e.seq
        self._outbox.extend(frames_for(fresh, self.max_frame))

    def has_data(self) -> bool:
        return bool(self._outbox or self._backlog)

    def data_to_send(self, max_frames: int = 64) -> list[bytes]:
        """Frames to put on the wire now; call again while `has_data()` (back-pressure friendly)."""
        out = self._outbox[:max_frames]
        del self._outbox[: len(out)]
        while len(out) < max_frames and self._backlog:
            author, next_seq = next(iter(self._backlog.items()))
            batch = self.source.entries(author, next_seq, self.batch_entries)
            if not batch:
                del self._backlog[author]
                continue
            last = batch[-1].seq
            self.peer_heads[author] = max(self.peer_heads.get(author, -1), last)
            mine = self.source.heads().get(author, -1)
            if last >= mine:
                del self._backlog[author]
            else:
                self._backlog[author] = last + 1
            out.extend(frames_for(batch, self.max_frame))
        return out

    # ----- incoming --------------------------------------------------------------------

    def receive(self, frame: bytes) -> SyncEvent:
        """Handle one frame from the peer."""
        event = decode_frame(frame, self.max_frame)
        if isinstance(event, FrameRejected):
            self.bad_frames += 1
        elif isinstance(event, HeadsReceived):
            self.peer_heads.update(event.heads)
            mine = self.source.heads()
            for author, seq in mine.items():
                theirs = event.heads.get(author, -1)
                if seq > theirs:
                    self._backlog[author] = min(self._backlog.get(author, theirs + 1), theirs + 1)
        elif isinstance(event, EntriesReceived):
            for e in event.entries:
                if self.peer_heads.get(e.author, -1) < e.seq:
                    self.peer_heads[e.author] = e.seq
        return event


class MemorySource:
    """An in-memory EntrySource: every accepted entry, per author, in order."""

    def __init__(self) -> None:
        self.by_author: dict[bytes, list[Entry]] = {}

    def add(self, entries: Iterable[Entry]) -> None:
        for e in entries:
            chain = self.by_author.setdefault(e.author, [])
            if e.seq == len(chain):
                chain.append(e)

    def heads(self) -> dict[bytes, int]:
        return {a: len(c) - 1 for a, c in self.by_author.items()}

    def entries(self, author: bytes, from_seq: int, limit: int) -> list[Entry]:
        return self.by_author.get(author, [])[from_seq : from_seq + limit]
