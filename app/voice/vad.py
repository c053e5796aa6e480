"""A noise gate / voice-activity detector on frame energy, with an adaptive noise floor.

A frame is speech when its level is above both an absolute threshold and the noise floor (the
quietest frame of the last two seconds) plus a margin. Once open, the gate holds for a hangover so word endings and short pauses are not
cut. The result drives the "speaking" indicator and tells the sender when to go silent (DTX).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

FULL_SCALE = 32768.0
MIN_DB = -120.0


def level_dbfs(pcm: npt.NDArray[np.int16]) -> float:
    """RMS level of a frame in dB relative to full scale (MIN_DB for digital silence)."""
    if pcm.size == 0:
        return MIN_DB
    rms = math.sqrt(float(np.mean(np.square(pcm.astype(np.float64)))))
    if rms <= 0.0:
        return MIN_DB
    return max(MIN_DB, 20.0 * math.log10(rms / FULL_SCALE))


class VoiceActivityDetector:
    """Energy noise gate with an adaptive noise floor, attack and hangover, one frame at a time."""

    def __init__(
        self,
        threshold_db: float = -50.0,
        margin_db: float = 9.0,
        attack_frames: int = 2,
        hangover_frames: int = 30,
        floor_frames: int = 200,
    ) -> None:
        self.threshold_db = threshold_db
        self.margin_db = margin_db
        self.attack_frames = attack_frames
        self.hangover_frames = hangover_frames
        self.noise_floor_db = threshold_db - margin_db
        self.level_db = MIN_DB
        self.active = False
        self._loud_run = 0
        self._hang = 0
        self._levels: deque[float] = deque([self.noise_floor_db], maxlen=floor_frames)

    def process(self, pcm: npt.NDArray[np.int16]) -> bool:
        """Feed one frame; returns True while the gate is open (the user is speaking)."""
        level = level_dbfs(pcm)
        self.level_db = level
        # The floor is the quietest frame of the last `floor_frames` (2 s): the pauses between
        # words reach down to it, while steady background noise (a fan) lifts it.
        loud = level > max(self.threshold_db, self.noise_floor_db + self.margin_db)
        self._levels.append(level)
        self.noise_floor_db = min(self._levels)
        if loud:
            self._loud_run += 1
            if self._loud_run >= self.attack_frames or self.active:
                self.active = True
                self._hang = self.hangover_frames
        else:
            self._loud_run = 0
            if self._hang > 0:
                self._hang -= 1
            else:
                self.active = False
        return self.active
