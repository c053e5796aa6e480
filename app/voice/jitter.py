"""The adaptive jitter buffer for one speaker: packets in (any order, any timing), 10 ms frames out.

Frames are placed by their sample timestamp, so reordering is free; the sequence number tells a
lost packet (a sequence gap) from a sender that went quiet (a timestamp jump with no gap: DTX).

Depth is counted in frames at each pull: the slots from the frame due now to the newest packet
held. The *target* depth is 1 to 3 frames, chosen from the measured jitter (spread of transit
times over the last second) plus one frame while loss is high, so FEC from the next packet is
usually at hand. The buffer

* grows by *stretching*: when the frame due is missing and nothing newer is held (an underrun), it
  conceals without moving on, so everything after it plays one frame later;
* drains by *dropping*: when even the shallowest depth over the last half second left a spare
  frame, and the depth is above target, one frame is skipped, preferably one that follows a quiet frame or
  that the sender flagged as not speech (a speech frame only after 500 ms without a quiet one);
* re-syncs at each talk spurt: after a DTX packet it idles, and starts the next spurt once the
  target depth is buffered, which also absorbs clock drift for free;
* conceals a lost frame with FEC from the next packet when that is held, else with Opus PLC, for at
  most `max_conceal` frames in a row before it falls silent.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.voice.codec import FRAME_SAMPLES, SAMPLE_RATE, CodecError, Frame, OpusDecoder, silence
from app.voice.packet import VoicePacket, seq_diff, ts_diff
from app.voice.vad import MIN_DB, level_dbfs

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
JITTER_SLACK = 0.005  # jitter one frame absorbs on average (the pull phase); more needs depth
QUIET_DBFS = -45.0  # after a frame this quiet, dropping the next one is not heard
RESET_FRAMES = 500  # a timestamp this far off (5 s) means the sender restarted: start afresh


class FrameDecoder(Protocol):
    """What the jitter buffer needs from a codec: decode, FEC from the next packet, and PLC."""

    def decode(self, payload: bytes) -> Frame: ...  # may raise CodecError for a damaged payload

    def decode_fec(self, next_payload: bytes) -> Frame: ...  # likewise

    def conceal(self) -> Frame: ...


class Playout(enum.Enum):
    """Where the last frame pulled from the buffer came from."""

    PACKET = "packet"  # decoded from its own packet
    FEC = "fec"  # rebuilt from in-band FEC in the next packet
    PLC = "plc"  # synthesised by packet-loss concealment
    SILENCE = "silence"  # idle: the speaker is silent (DTX) or not started


@dataclass
class JitterStats:
    """Counters of one speaker's jitter buffer."""

    received: int = 0
    played: int = 0  # frames played from their own packet
    concealed: int = 0  # frames played by FEC or PLC while the speaker was talking
    fec_recovered: int = 0
    late: int = 0  # packets that came after their slot had been played
    lost: int = 0  # slots skipped with no packet
    duplicates: int = 0
    dropped: int = 0  # frames skipped to drain the buffer (drift, or jitter that stopped)
    underruns: int = 0  # pulls with nothing to play mid-speech (the buffer stretched)
    depth: int = 0  # frames buffered at the last pull
    target: int = 1  # target depth in frames
    jitter_ms: float = 0.0  # the spread of transit times over the last second
    stretched: int = 0  # frames inserted in a pause to deepen the buffer to its target
    corrupt: int = 0  # packets whose Opus payload did not decode (concealed instead)

    @property
    def concealed_pct(self) -> float:
        """Concealed frames as a percentage of the frames played while talking."""
        total = self.played + self.concealed
        return 100.0 * self.concealed / total if total else 0.0


@dataclass(slots=True)
class _Slot:
    packet: VoicePacket
    arrival: float


class JitterBuffer:
    """Adaptive jitter buffer and concealment for one speaker (sans-IO: time is passed in)."""

    def __init__(
        self,
        decoder: FrameDecoder | None = None,
        min_depth: int = 1,
        max_depth: int = 3,
        max_conceal: int = 8,
        drain_window: int = 50,
        jitter_window: int = 100,
    ) -> None:
        if not 1 <= min_depth <= max_depth:
            raise ValueError("need 1 <= min_depth <= max_depth")
        self.decoder: FrameDecoder = decoder if decoder is not None else OpusDecoder()
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.max_conceal = max_conceal
        self.stats = JitterStats(target=min_depth)
        self.last_kind = Playout.SILENCE
        self.last_timestamp: int | None = None  # sender timestamp of the frame last played
        self.last_speech_at: float | None = None  # when a frame flagged as speech was last played
        self._slots: dict[int, _Slot] = {}
        self._ref_ext: int | None = None  # last timestamp seen, unwrapped past 2**32
        self._next = 0  # frame index due next
        self._playing = False
        self._silent_after = False  # the last packet played was flagged DTX
        self._last_seq: int | None = None
        self._conceal_run = 0
        self._transits: deque[tuple[float, float]] = deque(maxlen=jitter_window)
        self._depths: deque[int] = deque(maxlen=drain_window)
        self._outcomes: deque[bool] = deque(maxlen=100)  # True = a slot was lost
        self._seen: deque[int] = deque(maxlen=256)
        self._seen_set: set[int] = set()
        self._pulls = 0
        self._drain_wait = 0
        self._last_level = MIN_DB  # level of the frame played last (a quiet one may be dropped)

    # -- receiving -------------------------------------------------------------------------

    def _index(self, timestamp: int) -> int:
        if self._ref_ext is None:
            self._ref_ext = timestamp
        ext = self._ref_ext + ts_diff(timestamp, self._ref_ext % (1 << 32))
        if ext > self._ref_ext:
            self._ref_ext = ext
        return ext // FRAME_SAMPLES

    def _remember(self, seq: int) -> bool:
        """Record a sequence number; returns False if it was seen recently (a duplicate)."""
        if seq in self._seen_set:
            return False
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(seq)
        self._seen_set.add(seq)
        return True

    def reset(self) -> None:
        """Forget everything buffered and wait for a new talk spurt (stats are kept)."""
        self._slots.clear()
        self._ref_ext = None
        self._playing = False
        self._silent_after = False
        self._last_seq = None
        self._seen.clear()
        self._seen_set.clear()
        self._depths.clear()
        self._transits.clear()

    def push(self, packet: VoicePacket, now: float) -> None:
        """Accept one packet that arrived at time `now` (seconds)."""
        if self._ref_ext is not None and abs(ts_diff(packet.timestamp, self._ref_ext % (1 << 32))) > (
            RESET_FRAMES * FRAME_SAMPLES
        ):
            self.reset()
        index = self._index(packet.timestamp)
        if self._playing and index - self._next > RESET_FRAMES:
            self.reset()
            index = self._index(packet.timestamp)
        if not self._remember(packet.sequence):
            self.stats.duplicates += 1
            return
        self.stats.received += 1
        if (self._playing or self._last_seq is not None) and index < self._next:
            self.stats.late += 1
            return
        assert self._ref_ext is not None
        self._transits.append((now, now - index * FRAME_SECONDS))
        self._slots[index] = _Slot(packet, now)

    # -- adapting --------------------------------------------------------------------------

    def _update_target(self) -> None:
        if len(self._transits) >= 10:
            arr = np.array(self._transits, dtype=np.float64)  # (arrival, transit) pairs
            # Remove the linear trend first: clock drift moves transit times steadily, and that
            # is corrected by dropping/stretching, not by holding more frames.
            slope, icpt = np.polyfit(arr[:, 0] - arr[-1, 0], arr[:, 1], 1)
            resid = arr[:, 1] - (slope * (arr[:, 0] - arr[-1, 0]) + icpt)
            spread = float(np.percentile(resid, 95) - resid.min())
        else:
            spread = 0.0
        self.stats.jitter_ms = spread * 1000.0
        target = 1 + max(0, math.ceil((spread - JITTER_SLACK) / FRAME_SECONDS))
        if self._outcomes and sum(self._outcomes) / len(self._outcomes) > 0.02:
            target += 1  # keep the next packet at hand, for its FEC
        self.stats.target = max(self.min_depth, min(self.max_depth, target))

    @property
    def loss_pct(self) -> float:
        """Lost slots as a percentage of the last 100 played or lost."""
        if not self._outcomes:
            return 0.0
        return 100.0 * sum(self._outcomes) / len(self._outcomes)

    @property
    def depth(self) -> int:
        """Frames buffered: the slots from the frame due to the newest packet held."""
        if not self._slots:
            return 0
        return max(self._slots) - self._next + 1

    @property
    def starved(self) -> bool:
        """Mid-talk-spurt with nothing to play: the frame due is missing and nothing newer is
        held, so a pull now would stretch. A clock catching up after a stall waits on this for
        the packets the same stall held up (see `app.voice.transport`)."""
        return (
            self._playing
            and not self._slots
            and not self._silent_after
            and self._last_seq is not None
            and self._conceal_run == 0
        )

    # -- playing ---------------------------------------------------------------------------

    def _decode(self, payload: bytes, fec: bool = False) -> Frame:
        """Decode a payload from the wire; one that Opus rejects is concealed, and counted."""
        try:
            return self.decoder.decode_fec(payload) if fec else self.decoder.decode(payload)
        except CodecError:
            self.stats.corrupt += 1
            return self.decoder.conceal()

    def _silence(self) -> Frame:
        self.last_kind = Playout.SILENCE
        self.last_timestamp = None
        self._conceal_run = 0
        return silence()

    def _play(self, slot: _Slot, now: float) -> Frame:
        packet = slot.packet
        frame = self._decode(packet.payload)
        self._last_level = level_dbfs(frame)
        self.stats.played += 1
        self._outcomes.append(False)
        self._last_seq = packet.sequence
        self._silent_after = packet.dtx
        self._conceal_run = 0
        self._next += 1
        self.last_kind = Playout.PACKET
        self.last_timestamp = packet.timestamp
        if packet.speech:
            self.last_speech_at = now
        return frame

    def _conceal(self, next_packet: VoicePacket | None) -> Frame:
        if self._conceal_run >= self.max_conceal:
            self._playing = False  # the speaker went away mid-word: give up and idle
            return self._silence()
        self._conceal_run += 1
        self.stats.concealed += 1
        self.last_timestamp = None
        if next_packet is not None and next_packet.fec:
            self.stats.fec_recovered += 1
            self.last_kind = Playout.FEC
            return self._decode(next_packet.payload, fec=True)
        self.last_kind = Playout.PLC
        return self.decoder.conceal()

    def _maybe_drain(self, depth: int) -> None:
        """Skip one frame when the buffer is deeper than needed (see the module docstring)."""
        target = self.stats.target
        full = len(self._depths) == self._depths.maxlen
        # Spare only if even the shallowest pull of the window held more than the target: with
        # jitter the depth swings by a frame from pull to pull, and dropping on a swing's crest
        # only brings an underrun (and a stretch) a moment later.
        excess = depth > self.max_depth + 2 or (full and min(self._depths) > target and depth > target)
        if not excess:
            self._drain_wait = 0
            return
        slot = self._slots.get(self._next)
        if slot is None:
            self._drain_wait = 0
            self._next += 1  # a missing slot is the cheapest thing to skip
            self.stats.dropped += 1
            self._depths.clear()
            return
        self._drain_wait += 1
        quiet = slot.packet.dtx or not slot.packet.speech or self._last_level < QUIET_DBFS
        if quiet or depth > self.max_depth + 2 or self._drain_wait > 50:
            self._decode(slot.packet.payload)  # decoded and discarded: keeps decoder state
            del self._slots[self._next]
            self._last_seq = slot.packet.sequence
            self._next += 1
            self.stats.dropped += 1
            self._drain_wait = 0
            self._depths.clear()

    def _should_grow(self) -> bool:
        """Whether to insert a frame now: the buffer stayed shallower than the target for a
        whole window, and the frame played last was quiet (a pause is stretched unheard, where
        an underrun would stretch mid-word)."""
        return (
            len(self._depths) == self._depths.maxlen
            and max(self._depths) < self.stats.target
            and self._last_level < QUIET_DBFS
            and self.last_kind is Playout.PACKET
        )

    def _stretch(self) -> Frame:
        """Play a concealment frame without moving on: everything after plays a frame later."""
        self.stats.stretched += 1
        self._depths.clear()
        self.last_kind = Playout.PLC
        self.last_timestamp = None
        frame = self.decoder.conceal()
        self._last_level = level_dbfs(frame)
        return frame

    def pop(self, now: float) -> Frame:
        """Return the 10 ms frame to play at time `now` (called once per 10 ms)."""
        self._pulls += 1
        if self._pulls % 10 == 1:
            self._update_target()
        target = self.stats.target
        if not self._playing:
            if not self._slots:
                self.stats.depth = 0
                return self._silence()
            first = min(self._slots)
            span = max(self._slots) - first + 1
            waited = now - self._slots[first].arrival
            if span < target and waited < (target - 1) * FRAME_SECONDS:
                self.stats.depth = span
                return self._silence()  # prebuffer the talk spurt up to the target depth
            self._next = first
            self._playing = True
            self._depths.clear()
        depth = self.depth
        self.stats.depth = depth
        self._depths.append(depth)
        if self._should_grow():
            return self._stretch()
        if depth > 1:
            self._maybe_drain(depth)
        slot = self._slots.pop(self._next, None)
        if slot is not None:
            return self._play(slot, now)
        if not self._slots:
            if self._silent_after or self._last_seq is None:
                self._playing = False  # the speaker went quiet (DTX): idle until the next spurt
                return self._silence()
            if self._conceal_run < self.max_conceal:
                self.stats.underruns += 1
            return self._conceal(None)  # stretch: conceal but stay on the frame due
        first = min(self._slots)
        nxt = self._slots[first].packet
        if self._last_seq is not None and seq_diff(nxt.sequence, self._last_seq) == 1:
            self._next = first  # no packet is missing: the gap was DTX silence, skip it
            return self._play(self._slots.pop(first), now)
        self.stats.lost += 1
        self._outcomes.append(True)
        frame = self._conceal(nxt if first == self._next + 1 else None)
        self._next += 1
        return frame
