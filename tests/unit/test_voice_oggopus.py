"""Ogg Opus files for voice bots: checked against the reference opus-tools, and damaged files refused."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from app.voice.backends import BackendError, FileBackend
from app.voice.oggopus import OggOpusError, read_ogg_opus, write_ogg_opus
from tests.conftest import require

RATE = 48_000


def _tone(seconds: float = 1.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (8000 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.int16)


def _similar(a: np.ndarray, b: np.ndarray) -> float:
    n = min(a.size, b.size)
    return float(np.corrcoef(a[2000 : n - 2000], b[2000 : n - 2000])[0, 1])


def test_written_file_is_valid_for_opus_tools(tmp_path: Path) -> None:
    require(shutil.which("opusinfo") is not None and shutil.which("opusdec") is not None, "needs opus-tools")
    pcm = _tone()
    path = tmp_path / "tone.opus"
    write_ogg_opus(path, pcm)
    info = subprocess.run(["opusinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Channels: 1" in info and "Playback length: 0m:01" in info
    out = tmp_path / "decoded.wav"
    subprocess.run(["opusdec", "--quiet", "--rate", "48000", str(path), str(out)], check=True, capture_output=True)
    with wave.open(str(out)) as wf:
        decoded = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2")
    assert _similar(pcm, decoded) > 0.99
    assert _similar(pcm, read_ogg_opus(path)) > 0.99


def test_reads_what_opusenc_writes_stereo(tmp_path: Path) -> None:
    require(shutil.which("opusenc") is not None, "needs opus-tools")
    pcm = _tone()
    wav = tmp_path / "in.wav"
    with wave.open(str(wav), "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(2)
        wf.setframerate(RATE)
        wf.writeframes(np.repeat(pcm, 2).astype("<i2").tobytes())
    enc = tmp_path / "enc.opus"
    subprocess.run(["opusenc", "--quiet", str(wav), str(enc)], check=True)
    assert _similar(pcm, read_ogg_opus(enc)) > 0.99
    backend = FileBackend(enc)
    frames = []
    while (frame := backend.read_frame()) is not None:
        frames.append(frame)
    assert _similar(pcm, np.concatenate(frames)) > 0.99


def test_damaged_files_are_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "tone.opus"
    write_ogg_opus(path, _tone(0.3))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "broken.opus"
    broken.write_bytes(bytes(data))
    with pytest.raises(OggOpusError, match="damaged"):
        read_ogg_opus(broken)
    with pytest.raises(BackendError):
        FileBackend(broken)
    truncated = tmp_path / "short.opus"
    truncated.write_bytes(bytes(data[:50]))
    with pytest.raises(OggOpusError):
        read_ogg_opus(truncated)
    notogg = tmp_path / "x.opus"
    notogg.write_bytes(b"RIFF....not ogg at all")
    with pytest.raises(OggOpusError, match="not an Ogg"):
        read_ogg_opus(notogg)


def test_recording_to_opus(tmp_path: Path) -> None:
    out = tmp_path / "call.opus"
    backend = FileBackend(None, out)
    pcm = _tone(0.5)
    for frame in pcm[: pcm.size // 480 * 480].reshape(-1, 480):
        backend.write_frame(frame)
    backend.close()
    assert out.read_bytes()[:4] == b"OggS"
    assert _similar(pcm, read_ogg_opus(out)) > 0.98
