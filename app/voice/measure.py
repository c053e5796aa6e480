"""Measuring voice end to end: synthetic speech, alignment by cross-correlation, and gaps.

Used by the integration tests and `python -m bench voice`; numpy only at run time (espeak-ng and
sox are external programs, needed only by `espeak_speech`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.voice.backends import BackendError, read_wav
from app.voice.codec import FRAME_SAMPLES, Frame

SPEECH_TEXT = (
    "Hello from Hubbub. This voice travels peer to peer, with no server in between. "
    "The quick brown fox jumps over the lazy dog."
)


def espeak_speech(text: str = SPEECH_TEXT, workdir: str | Path | None = None) -> Frame:
    """Speak `text` with espeak-ng and return it as 48 kHz mono int16 (resampled by sox when
    present, else by linear interpolation)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise BackendError("espeak-ng is not installed")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        raw, wav48 = Path(tmp) / "speech.wav", Path(tmp) / "speech48.wav"
        subprocess.run([espeak, "-w", str(raw), text], check=True, capture_output=True)
        sox = shutil.which("sox")
        if sox is not None:
            subprocess.run([sox, str(raw), "-r", "48000", str(wav48)], check=True, capture_output=True)
            return read_wav(wav48)
        return read_wav(raw)


def align(ref: npt.NDArray[np.int16], out: npt.NDArray[np.int16]) -> tuple[int, float]:
    """Find where `ref` appears in `out`: (lag in samples, normalised correlation at that lag)."""
    a = ref.astype(np.float64)
    b = out.astype(np.float64)
    n = 1 << int(np.ceil(np.log2(a.size + b.size)))
    corr = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n)
    lags = corr[: max(1, b.size - a.size + 1)] if b.size >= a.size else corr[:1]
    lag = int(np.argmax(lags))
    seg = b[lag : lag + a.size]
    denom = float(np.linalg.norm(a[: seg.size]) * np.linalg.norm(seg)) or 1.0
    return lag, float(np.dot(a[: seg.size], seg) / denom)


def longest_gap(
    ref: npt.NDArray[np.int16], out: npt.NDArray[np.int16], lag: int, speech_dbfs: float = -35.0
) -> int:
    """The longest run of frames, in frames, that are loud speech in `ref` but near-silent in
    `out` (after shifting `out` back by `lag`): what a listener hears as a drop-out."""
    n = min(ref.size, out.size - lag) // FRAME_SAMPLES
    r = ref[: n * FRAME_SAMPLES].astype(np.float64).reshape(n, FRAME_SAMPLES)
    o = out[lag : lag + n * FRAME_SAMPLES].astype(np.float64).reshape(n, FRAME_SAMPLES)
    loud = 20 * np.log10(np.sqrt(np.mean(r**2, axis=1)) / 32768 + 1e-12) > speech_dbfs
    silent = 20 * np.log10(np.sqrt(np.mean(o**2, axis=1)) / 32768 + 1e-12) < -60.0
    run = best = 0
    for bad in loud & silent:
        run = run + 1 if bad else 0
        best = max(best, run)
    return best


def windowed_corr(
    ref: npt.NDArray[np.int16],
    out: npt.NDArray[np.int16],
    lag: int,
    window: int = 9600,
    search: int = 1440,
    speech_dbfs: float = -40.0,
) -> list[float]:
    """Correlation of each speech window of `ref` with `out`, re-aligned within +-`search` samples
    of `lag`: a stretch or a dropped frame shifts the rest by 10 ms, which one global lag would
    score as a mismatch although every word arrived intact."""
    scores: list[float] = []
    a_all = ref.astype(np.float64)
    b_all = out.astype(np.float64)
    for start in range(0, ref.size - window + 1, window):
        a = a_all[start : start + window]
        if 20 * np.log10(np.sqrt(np.mean(a**2)) / 32768 + 1e-12) < speech_dbfs:
            continue
        lo = max(0, start + lag - search)
        hi = min(b_all.size, start + lag + search + window)
        b = b_all[lo:hi]
        if b.size < window:
            scores.append(0.0)
            continue
        best = 0.0
        na = float(np.linalg.norm(a))
        for off in range(0, b.size - window + 1, 8):
            seg = b[off : off + window]
            c = float(np.dot(a, seg)) / (na * float(np.linalg.norm(seg)) + 1e-9)
            best = max(best, c)
        scores.append(best)
    return scores
