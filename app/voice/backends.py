"""Audio device backends: where 10 ms frames come from and go to.

`AudioBackend` is the interface the transport drives: `read_frame()` gives the next captured frame
(None when there is none yet, or the input has ended), `write_frame()` plays one. Implementations:

* `ArrayBackend`: a NumPy array in, a growing list of frames out (tests, benchmarks).
* `FileBackend`: a WAV file in, a WAV file out (bots: play a file into a channel, record one).
* `SoundDeviceBackend`: PortAudio through sounddevice, blocksize one frame (real use); duplex, or
  playback only when there is no microphone (listen-only), or capture only when nothing plays.
* `NullBackend`: no sound card at all: nothing captured, nothing played; the channel still works.

`open_device_backend` picks among the last three by the devices there are. A backend's `has_input`
and `has_output` say what it can do (a backend without them can do both).
"""

from __future__ import annotations

import io
import queue
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from app.voice.codec import FRAME_SAMPLES, MAX_FILE_SECONDS, SAMPLE_RATE, Frame, as_frame, silence
from app.voice.vad import level_dbfs


class BackendError(RuntimeError):
    """An audio device or file cannot be used; the message says why, in one sentence."""


MAX_WAV_CHANNELS = 8
MIN_WAV_RATE, MAX_WAV_RATE = 4_000, 192_000


class AudioBackend(Protocol):
    """A source and sink of 10 ms, 48 kHz mono int16 frames."""

    def read_frame(self) -> Frame | None:
        """The next captured frame, or None if there is none (yet, or any more)."""
        ...

    def write_frame(self, frame: Frame) -> None:
        """Play (or record) one frame."""
        ...

    def close(self) -> None:
        """Release the device or finish the file."""
        ...


def resample(pcm: npt.NDArray[np.int16], rate: int, to_rate: int = SAMPLE_RATE) -> Frame:
    """Resample int16 audio by linear interpolation: good enough for bots' files, not for hi-fi.

    Tests that judge quality resample with sox or scipy before handing audio over.
    """
    if rate == to_rate or pcm.size == 0:
        return pcm.astype(np.int16)
    n_out = int(round(pcm.size * to_rate / rate))
    x_old = np.arange(pcm.size) / rate
    x_new = np.arange(n_out) / to_rate
    out = np.interp(x_new, x_old, pcm.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def read_wav(path: str | Path) -> Frame:
    """Read a 16-bit PCM WAV file as 48 kHz mono int16 (channels averaged, rate converted)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BackendError(f"cannot read WAV file {path}: {exc.strerror}") from exc
    return decode_wav(data, str(path))


def decode_wav(data: bytes, path: str = "the file") -> Frame:
    """Decode the bytes of a WAV file (see `read_wav`); `path` names it in errors.

    Raises BackendError and nothing else, whatever the bytes."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wf:
            if wf.getsampwidth() != 2:
                raise BackendError(f"{path} is not 16-bit PCM WAV")
            channels, rate, frames = wf.getnchannels(), wf.getframerate(), wf.getnframes()
            if not 1 <= channels <= MAX_WAV_CHANNELS or not MIN_WAV_RATE <= rate <= MAX_WAV_RATE:
                raise BackendError(f"{path} has {channels} channels at {rate} Hz, which Hubbub cannot play")
            if frames > MAX_FILE_SECONDS * rate:
                raise BackendError(f"{path} is longer than {MAX_FILE_SECONDS // 60} minutes")
            raw = wf.readframes(frames)
    except BackendError:
        raise
    except (OSError, EOFError, wave.Error, ValueError, struct.error, RuntimeError) as exc:  # wave's ways to say "damaged"
        raise BackendError(f"cannot read WAV file {path}: {exc or type(exc).__name__}") from exc
    whole = len(raw) - len(raw) % (2 * channels)  # a file cut short may end mid-frame
    pcm = np.frombuffer(raw[:whole], dtype="<i2").astype(np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return resample(pcm, rate)


def write_wav(path: str | Path, pcm: npt.NDArray[np.int16]) -> None:
    """Write 48 kHz mono int16 samples as a WAV file."""
    try:
        with wave.open(str(path), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(SAMPLE_RATE)
            wf.writeframes(pcm.astype("<i2").tobytes())
    except OSError as exc:
        raise BackendError(f"cannot write WAV file {path}: {exc}") from exc


class ArrayBackend:
    """Frames from an array (padded to whole frames), and every played frame kept in `played`."""

    def __init__(self, pcm: npt.ArrayLike | None = None, loop: bool = False) -> None:
        data = np.zeros(0, dtype=np.int16) if pcm is None else np.asarray(pcm, dtype=np.int16)
        pad = (-data.size) % FRAME_SAMPLES
        self._frames = np.concatenate([data, np.zeros(pad, dtype=np.int16)]).reshape(-1, FRAME_SAMPLES)
        self._pos = 0
        self.loop = loop
        self.played: list[Frame] = []

    @property
    def exhausted(self) -> bool:
        """True once every input frame has been read (never, when looping)."""
        return not self.loop and self._pos >= len(self._frames)

    def read_frame(self) -> Frame | None:
        if len(self._frames) == 0 or self.exhausted:
            return None
        frame: Frame = self._frames[self._pos % len(self._frames)].copy()
        self._pos += 1
        return frame

    def write_frame(self, frame: Frame) -> None:
        self.played.append(as_frame(frame).copy())

    def output(self) -> Frame:
        """Everything played so far, as one array."""
        return np.concatenate(self.played) if self.played else np.zeros(0, dtype=np.int16)

    def close(self) -> None:
        pass


def _is_ogg(path: Path) -> bool:
    if path.suffix.lower() in (".opus", ".ogg", ".oga"):
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"OggS"
    except OSError:
        return False


def read_audio(path: str | Path) -> Frame:
    """A WAV or Ogg Opus file as 48 kHz mono int16."""
    from .oggopus import OggOpusError, read_ogg_opus

    if _is_ogg(Path(path)):
        try:
            return read_ogg_opus(path)
        except OggOpusError as exc:
            raise BackendError(str(exc)) from exc
    return read_wav(path)


def write_audio(path: str | Path, pcm: npt.NDArray[np.int16]) -> None:
    """Write 48 kHz mono samples as Ogg Opus when the name ends in .opus/.ogg, else as WAV."""
    from .oggopus import OggOpusError, write_ogg_opus

    if Path(path).suffix.lower() in (".opus", ".ogg", ".oga"):
        try:
            write_ogg_opus(path, pcm)
        except OggOpusError as exc:
            raise BackendError(str(exc)) from exc
    else:
        write_wav(path, pcm)


class FileBackend(ArrayBackend):
    """A bot's audio: plays `in_path` (WAV or Ogg Opus) into the call, records the call to `out_path` on close."""

    def __init__(self, in_path: str | Path | None = None, out_path: str | Path | None = None, loop: bool = False) -> None:
        super().__init__(read_audio(in_path) if in_path is not None else None, loop=loop)
        self.out_path = Path(out_path) if out_path is not None else None

    def close(self) -> None:
        if self.out_path is not None:
            write_audio(self.out_path, self.output())


@dataclass(frozen=True)
class DeviceInfo:
    """One audio device, for the settings picker."""

    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise BackendError(f"audio devices are unavailable: PortAudio could not be loaded ({exc})") from exc
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    """All PortAudio devices; raises BackendError (never crashes) when there are none."""
    sd = _sounddevice()
    try:
        raw = sd.query_devices()
    except Exception as exc:  # PortAudioError and friends: report, don't crash
        raise BackendError(f"cannot list audio devices: {exc}") from exc
    devices = [
        DeviceInfo(i, str(d["name"]), int(d["max_input_channels"]), int(d["max_output_channels"]),
                   float(d["default_samplerate"]))
        for i, d in enumerate(raw)
    ]
    if not devices:
        raise BackendError("no audio devices found: is a sound card connected?")
    return devices


def input_devices() -> list[DeviceInfo]:
    """Devices that can capture (microphones), for the input picker."""
    found = [d for d in list_devices() if d.inputs > 0]
    if not found:
        raise BackendError("no input (microphone) device found")
    return found


def output_devices() -> list[DeviceInfo]:
    """Devices that can play, for the output picker."""
    found = [d for d in list_devices() if d.outputs > 0]
    if not found:
        raise BackendError("no output (speaker) device found")
    return found


class NullBackend:
    """No sound card: reads no frames and plays none, so voice runs with neither microphone nor speaker."""

    has_input = False
    has_output = False

    def read_frame(self) -> Frame | None:
        return None

    def write_frame(self, frame: Frame) -> None:
        pass

    def close(self) -> None:
        pass


def has_input(backend: object) -> bool:
    """Whether a backend captures (a microphone); True for backends that do not say."""
    return bool(getattr(backend, "has_input", True))


def has_output(backend: object) -> bool:
    """Whether a backend plays (a speaker or headphones); True for backends that do not say."""
    return bool(getattr(backend, "has_output", True))


def open_device_backend(input_device: int | None = None, output_device: int | None = None) -> AudioBackend:
    """The sound card as a voice backend, with what it has: duplex, playback only, capture only, or nothing.

    Never fails for want of a device (no microphone means listen-only, no device at all a `NullBackend`);
    raises BackendError only when a device that exists cannot be opened.
    """
    try:
        devices = list_devices()
    except BackendError:
        return NullBackend()
    capture = any(d.inputs > 0 for d in devices)
    play = any(d.outputs > 0 for d in devices)
    if not capture and not play:
        return NullBackend()
    return SoundDeviceBackend(input_device if capture else None, output_device if play else None, capture=capture, play=play)


class SoundDeviceBackend:
    """A PortAudio stream with a one-frame blocksize (duplex, or one half of it); thin by design.

    The PortAudio callback thread moves frames through two small queues; `read_frame` and
    `write_frame` never block. `level_db` is the input level for a meter, and with `monitor` on
    the microphone is played straight back ("test my mic").
    """

    QUEUE_FRAMES = 8

    def __init__(self, input_device: int | None = None, output_device: int | None = None, *,
                 capture: bool = True, play: bool = True) -> None:
        sd = _sounddevice()
        self._in: queue.Queue[Frame] = queue.Queue(self.QUEUE_FRAMES)
        self._out: queue.Queue[Frame] = queue.Queue(self.QUEUE_FRAMES)
        self.level_db = -120.0
        self.monitor = False
        self.has_input, self.has_output = capture, play
        common = {"samplerate": SAMPLE_RATE, "blocksize": FRAME_SAMPLES, "channels": 1, "dtype": "int16", "latency": "low"}
        try:
            if capture and play:
                self._stream = sd.Stream(device=(input_device, output_device), callback=self._callback, **common)
            elif play:
                self._stream = sd.OutputStream(device=output_device, callback=self._play_only, **common)
            else:
                self._stream = sd.InputStream(device=input_device, callback=self._capture_only, **common)
            self._stream.start()
        except Exception as exc:
            raise BackendError(f"cannot open the audio device: {exc}") from exc

    def _callback(self, indata: Any, outdata: Any, frames: int, time: Any, status: Any) -> None:
        captured = self._capture(indata)
        play = self._next_out()
        if self.monitor:
            play = captured
        outdata[:, 0] = play[:frames]

    def _play_only(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        outdata[:, 0] = self._next_out()[:frames]

    def _capture_only(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        self._capture(indata)

    def _capture(self, indata: Any) -> Frame:
        captured: Frame = np.array(indata[:, 0], dtype=np.int16)
        self.level_db = level_dbfs(captured)
        try:
            self._in.put_nowait(captured)
        except queue.Full:
            pass
        return captured

    def _next_out(self) -> Frame:
        try:
            return self._out.get_nowait()
        except queue.Empty:
            return silence()

    def read_frame(self) -> Frame | None:
        try:
            return self._in.get_nowait()
        except queue.Empty:
            return None

    def write_frame(self, frame: Frame) -> None:
        try:
            self._out.put_nowait(as_frame(frame))
        except queue.Full:
            pass  # the device is behind: drop rather than build latency

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
