"""The sans-IO sync protocol: peers exchange heads, then push each other the entries the other lacks.

Bytes in, events and bytes out; no sockets, no clocks. The same frames carry live
fan-out of new entries, catch-up after being offline, and the contents of an exported
log file. Frames are versioned, size-capped and canonical, and a malformed frame is
reported as an event, never raised.

Heads carry a hash prefix of the entry they name, so two replicas holding different
entries at one (author, seq) notice at their first meeting: each asks for the other's
(WANT), and the second signed entry is the proof of equivocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .entry import KEY_SIZE, MAX_ENTRY_SIZE, Entry, decode_entry
from .errors import DecodeError
from .native import fast_decode_entries, fast_decode_entry, fast_entries_frame
from .varint import read_uint, write_uint

SYNC_VERSION = 2
MAX_FRAME = 256 * 1024
FRAME_HEADS = 1
FRAME_ENTRIES = 2
FRAME_WANT = 3
HEAD_HASH = 16
MAX_HEADS = 2000      # per frame; more authors go in more frames
MAX_WANTS = 1000
MAX_WANT_COUNT = 4000


class EntrySource(Protocol):
    """Read access to the entries one replica holds."""

    def heads(self) -> dict[bytes, int]: ...

    def hash_at(self, author: bytes, seq: int) -> bytes | None: ...

    def entries(self, author: bytes, from_seq: int, limit: int) -> list[Entry]: ...


@dataclass(frozen=True, slots=True)
class HeadsReceived:
    """The peer told us the newest sequence number (and a hash prefix) it holds per author."""

    heads: dict[bytes, int]
    hashes: dict[bytes, bytes]
    last: bool = True


@dataclass(frozen=True, slots=True)
class EntriesReceived:
    """The peer sent entries; they still need checking."""

    entries: list[Entry]


@dataclass(frozen=True, slots=True)
class WantReceived:
    """The peer asked for entries by (author, first seq, count)."""

    wants: list[tuple[bytes, int, int]]


@dataclass(frozen=True, slots=True)
class FrameRejected:
    """A frame from the peer was malformed; `reason` says how."""

    reason: str


SyncEvent = HeadsReceived | EntriesReceived | WantReceived | FrameRejected


def encode_heads(heads: dict[bytes, int], hashes: dict[bytes, bytes] | None = None, last: bool = True) -> bytes:
    hashes = hashes or {}
    out = bytearray((SYNC_VERSION, FRAME_HEADS, 1 if last else 0))
    write_uint(out, len(heads))
    for author in sorted(heads):
        out += author
        write_uint(out, heads[author])
        out += hashes.get(author, bytes(HEAD_HASH))[:HEAD_HASH].ljust(HEAD_HASH, b"\0")
    return bytes(out)


_ENTRIES_HEAD = bytes((SYNC_VERSION, FRAME_ENTRIES))


def encode_entries(entries: list[bytes]) -> bytes:
    out = bytearray((SYNC_VERSION, FRAME_ENTRIES))
    write_uint(out, len(entries))
    for raw in entries:
        size = len(raw)
        if 0x80 <= size < 0x4000:
            out += bytes(((size & 0x7F) | 0x80, size >> 7))
        else:
            write_uint(out, size)
        out += raw
    return bytes(out)


def encode_want(wants: list[tuple[bytes, int, int]]) -> bytes:
    out = bytearray((SYNC_VERSION, FRAME_WANT))
    write_uint(out, len(wants))
    for author, seq, count in sorted(set(wants)):
        out += author
        write_uint(out, seq)
        write_uint(out, count)
    return bytes(out)


def _decode_heads(frame: bytes) -> HeadsReceived:
    if len(frame) < 3 or frame[2] not in (0, 1):
        raise DecodeError("heads frame has a bad flag")
    count, pos = read_uint(frame, 3)
    if count > MAX_HEADS:
        raise DecodeError("too many heads")
    heads: dict[bytes, int] = {}
    hashes: dict[bytes, bytes] = {}
    previous = b""
    for _ in range(count):
        if pos + KEY_SIZE > len(frame):
            raise DecodeError("heads frame is truncated")
        author = bytes(frame[pos : pos + KEY_SIZE])
        if author <= previous:
            raise DecodeError("heads are not in order")
        previous = author
        seq, pos = read_uint(frame, pos + KEY_SIZE)
        if seq >= 1 << 62 or pos + HEAD_HASH > len(frame):
            raise DecodeError("heads frame is truncated")
        heads[author] = seq
        hashes[author] = bytes(frame[pos : pos + HEAD_HASH])
        pos += HEAD_HASH
    if pos != len(frame):
        raise DecodeError("trailing bytes in heads frame")
    return HeadsReceived(heads, hashes, frame[2] == 1)


def _decode_entries(frame: bytes) -> EntriesReceived:
    count, pos = read_uint(frame, 2)
    fast = fast_decode_entries(frame, pos, count, MAX_ENTRY_SIZE) if type(frame) is bytes else None
    if fast is not None:
        return EntriesReceived(fast)
    entries = []
    n = len(frame)
    for _ in range(count):
        if pos + 1 < n and frame[pos] >= 0x80 and 0 < frame[pos + 1] < 0x80:  # the usual two-byte length, inline
            length = (frame[pos] & 0x7F) | frame[pos + 1] << 7
            pos += 2
        else:
            length, pos = read_uint(frame, pos)
        if length > MAX_ENTRY_SIZE or pos + length > n:
            raise DecodeError("entry overruns the frame")
        read = fast_decode_entry(frame, pos)
        entry, end = read if read is not None else decode_entry(frame, pos)
        if end != pos + length:
            raise DecodeError("an entry's length does not match its contents")
        entries.append(entry)
        pos = end
    if pos != len(frame):
        raise DecodeError("trailing bytes in entries frame")
    return EntriesReceived(entries)


def _decode_want(frame: bytes) -> WantReceived:
    count, pos = read_uint(frame, 2)
    if count > MAX_WANTS:
        raise DecodeError("too many wants")
    wants = []
    previous: tuple[bytes, int, int] | None = None
    for _ in range(count):
        if pos + KEY_SIZE > len(frame):
            raise DecodeError("want frame is truncated")
        author = bytes(frame[pos : pos + KEY_SIZE])
        seq, pos = read_uint(frame, pos + KEY_SIZE)
        n, pos = read_uint(frame, pos)
        if seq >= 1 << 62 or not 1 <= n <= MAX_WANT_COUNT:
            raise DecodeError("want asks for a bad range")
        item = (author, seq, n)
        if previous is not None and item <= previous:
            raise DecodeError("wants are not in order")
        previous = item
        wants.append(item)
    if pos != len(frame):
        raise DecodeError("trailing bytes in want frame")
    return WantReceived(wants)


def decode_frame(frame: bytes, max_frame: int = MAX_FRAME) -> SyncEvent:
    """Parse one sync frame; malformed input becomes a FrameRejected event (nothing is raised)."""
    try:
        if len(frame) > max_frame:
            raise DecodeError("frame is larger than the cap")
        if len(frame) < 2 or frame[0] != SYNC_VERSION:
            raise DecodeError("unknown sync frame version")
        kind = frame[1]
        if kind == FRAME_HEADS:
            return _decode_heads(frame)
        if kind == FRAME_ENTRIES:
            return _decode_entries(frame)
        if kind == FRAME_WANT:
            return _decode_want(frame)
        raise DecodeError(f"unknown sync frame type {kind}")
    except DecodeError as exc:
        return FrameRejected(str(exc))
    except Exception as exc:  # a decoder bug must still not escape: report it as a bad frame
        return FrameRejected(f"undecodable frame ({type(exc).__name__})")


def frames_for(entries: Iterable[Entry], max_frame: int = MAX_FRAME) -> list[bytes]:
    """Pack entries into as few ENTRIES frames as fit under the cap."""
    if fast_entries_frame is not None:
        todo = entries if isinstance(entries, list) else list(entries)
        done, out = 0, []
        while done < len(todo):
            frame, done = fast_entries_frame(todo, done, max_frame, _ENTRIES_HEAD)
            out.append(frame)
        return out
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
        self._heads_in: dict[bytes, int] = {}
        self._hashes_in: dict[bytes, bytes] = {}
        self._outbox: list[bytes] = []
        self._backlog: dict[bytes, int] = {}  # author -> next seq the peer needs from us
        self._asked: dict[tuple[bytes, int], int] = {}  # wanted ranges the peer asked us for
        self.bad_frames = 0
        self.forks_suspected: list[tuple[bytes, int]] = []

    # ----- outgoing --------------------------------------------------------------------

    def open(self) -> None:
        """Start (or restart) the conversation by telling the peer our heads."""
        heads = self.source.heads()
        authors = sorted(heads)
        if not authors:
            self._outbox.append(encode_heads({}, {}))
            return
        for i in range(0, len(authors), MAX_HEADS):
            chunk = authors[i : i + MAX_HEADS]
            part = {a: heads[a] for a in chunk}
            hashes = {a: (self.source.hash_at(a, heads[a]) or b"")[:HEAD_HASH] for a in chunk}
            self._outbox.append(encode_heads(part, hashes, last=i + MAX_HEADS >= len(authors)))

    def announce(self, entries: list[Entry]) -> None:
        """Push new entries the peer does not have yet (live fan-out)."""
        fresh = [e for e in entries if self.peer_heads.get(e.author, -1) < e.seq and e.author not in self._backlog]
        for e in fresh:
            if self.peer_heads.get(e.author, -1) == e.seq - 1:
                self.peer_heads[e.author] = e.seq
        self._outbox.extend(frames_for(fresh, self.max_frame))

    def send_entries(self, entries: list[Entry]) -> None:
        """Send these entries whatever the peer holds (a proof of equivocation, a repaired entry)."""
        self._outbox.extend(frames_for(entries, self.max_frame))

    def want(self, wants: Iterable[tuple[bytes, int, int]]) -> None:
        """Ask the peer for entries by (author, first seq, count)."""
        items = sorted(set(wants))
        for i in range(0, len(items), MAX_WANTS):
            self._outbox.append(encode_want(items[i : i + MAX_WANTS]))

    def take_signals(self) -> list[bytes]:
        """The queued frames that carry no entries (heads, wants): what may go to a peer not yet known as a member."""
        signals = [f for f in self._outbox if len(f) > 1 and f[1] in (FRAME_HEADS, FRAME_WANT)]
        self._outbox = [f for f in self._outbox if not (len(f) > 1 and f[1] in (FRAME_HEADS, FRAME_WANT))]
        return signals

    def has_data(self) -> bool:
        return bool(self._outbox or self._backlog or self._asked)

    def data_to_send(self, max_frames: int = 64) -> list[bytes]:
        """Frames to put on the wire now; call again while `has_data()` (back-pressure friendly)."""
        out = self._outbox[:max_frames]
        del self._outbox[: len(out)]
        while len(out) < max_frames and self._asked:
            (author, seq), count = next(iter(self._asked.items()))
            del self._asked[(author, seq)]
            batch = self.source.entries(author, seq, min(count, self.batch_entries))
            out.extend(frames_for(batch, self.max_frame))
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
            self._heads_in.update(event.heads)
            self._hashes_in.update(event.hashes)
            if event.last:
                self._on_heads(self._heads_in, self._hashes_in)
                self._heads_in, self._hashes_in = {}, {}
        elif isinstance(event, WantReceived):
            for author, seq, count in event.wants:
                if len(self._asked) < MAX_WANTS:
                    self._asked[(author, seq)] = count
        elif isinstance(event, EntriesReceived):
            for e in event.entries:
                if self.peer_heads.get(e.author, -1) < e.seq:
                    self.peer_heads[e.author] = e.seq
        return event

    def _on_heads(self, heads: dict[bytes, int], hashes: dict[bytes, bytes]) -> None:
        self.peer_heads.update(heads)
        mine = self.source.heads()
        forks: list[tuple[bytes, int, int]] = []
        for author, seq in mine.items():
            theirs = heads.get(author, -1)
            if seq > theirs:
                self._backlog[author] = min(self._backlog.get(author, theirs + 1), theirs + 1)
        for author, theirs in heads.items():
            at = min(theirs, mine.get(author, -1))
            if at < 0 or at != theirs:
                continue
            ours = self.source.hash_at(author, at)
            if ours is not None and ours[:HEAD_HASH] != hashes.get(author):
                # Two different entries at one place: fetch theirs, whose signature proves the fork.
                forks.append((author, at, 1))
                self.forks_suspected.append((author, at))
        if forks:
            self.want(forks)


class MemorySource:
    """An in-memory EntrySource: every held entry, per author, in order."""

    def __init__(self) -> None:
        self.by_author: dict[bytes, list[Entry]] = {}

    def add(self, entries: Iterable[Entry]) -> None:
        for e in entries:
            chain = self.by_author.setdefault(e.author, [])
            if e.seq == len(chain):
                chain.append(e)

    def heads(self) -> dict[bytes, int]:
        return {a: len(c) - 1 for a, c in self.by_author.items()}

    def hash_at(self, author: bytes, seq: int) -> bytes | None:
        chain = self.by_author.get(author, [])
        return chain[seq].hash if 0 <= seq < len(chain) else None

    def entries(self, author: bytes, from_seq: int, limit: int) -> list[Entry]:
        return self.by_author.get(author, [])[from_seq : from_seq + limit]
