"""The mixer: sums per-speaker 10 ms frames into one output frame, with per-user volume.

Clipping protection is a peak limiter: when the sum would exceed full scale the gain drops at once
to fit, then recovers smoothly over a few frames, so loud overlaps are squashed, not clipped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from app.voice.codec import FRAME_SAMPLES, Frame

FULL_SCALE = 32767.0
MAX_VOLUME = 4.0


class Mixer:
    """Mixes any number of speakers' frames; per-speaker gains and a master gain with a limiter."""

    def __init__(self, release_per_frame: float = 0.05) -> None:
        self.volumes: dict[str, float] = {}
        self.master = 1.0
        self.release_per_frame = release_per_frame
        self.limiter_gain = 1.0

    def set_volume(self, peer: str, volume: float) -> None:
        """Set a speaker's gain (1.0 is unchanged, 0.0 silences them, at most MAX_VOLUME)."""
        self.volumes[peer] = max(0.0, min(MAX_VOLUME, float(volume)))

    def volume(self, peer: str) -> float:
        """A speaker's gain (1.0 unless set)."""
        return self.volumes.get(peer, 1.0)

    def mix(self, frames: Mapping[str, npt.NDArray[np.int16]]) -> Frame:
        """Mix the given frames (peer -> int16 frame) into one int16 frame without wrapping."""
        acc = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        for peer, frame in frames.items():
            gain = self.volume(peer) * self.master
            if gain > 0.0:
                acc += frame.astype(np.float32) * np.float32(gain)
        peak = float(np.max(np.abs(acc))) if acc.size else 0.0
        start = self.limiter_gain
        target = 1.0 if peak <= FULL_SCALE else FULL_SCALE / peak
        if target < start:
            start = target  # attack: instant, so this frame already fits
            end = target
        else:
            end = min(target, start + self.release_per_frame)  # release: a smooth ramp
        ramp = np.linspace(start, end, FRAME_SAMPLES, dtype=np.float32)
        self.limiter_gain = end
        out = acc * ramp
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)
