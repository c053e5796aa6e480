"""Voice backends by the devices there are: duplex, playback only (no microphone), or nothing at all.

The sound card is the one thing a test may fake (there is none on the test machines): a stand-in
`sounddevice` module reports the devices and records which stream kind was opened.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.voice import backends
from app.voice.codec import FRAME_SAMPLES


class FakeStream:
    opened: list[tuple[str, Any]] = []

    def __init__(self, kind: str, **kw: Any) -> None:
        self.kind, self.callback = kind, kw["callback"]
        FakeStream.opened.append((kind, kw["device"]))

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeSoundDevice:
    def __init__(self, devices: list[dict[str, Any]]) -> None:
        self.devices = devices

    def query_devices(self) -> list[dict[str, Any]]:
        return self.devices

    def Stream(self, **kw: Any) -> FakeStream:  # noqa: N802 (sounddevice's names)
        return FakeStream("duplex", **kw)

    def OutputStream(self, **kw: Any) -> FakeStream:  # noqa: N802
        return FakeStream("output", **kw)

    def InputStream(self, **kw: Any) -> FakeStream:  # noqa: N802
        return FakeStream("input", **kw)


def _device(name: str, inputs: int, outputs: int) -> dict[str, Any]:
    return {"name": name, "max_input_channels": inputs, "max_output_channels": outputs, "default_samplerate": 48000.0}


@pytest.fixture
def card(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    devices: list[dict[str, Any]] = []
    monkeypatch.setattr(backends, "_sounddevice", lambda: FakeSoundDevice(devices))
    FakeStream.opened = []
    return devices


def test_headphones_without_a_microphone_open_playback_only(card: list[dict[str, Any]]) -> None:
    card.append(_device("headphones", 0, 2))
    backend = backends.open_device_backend()
    assert FakeStream.opened == [("output", None)]
    assert not backends.has_input(backend) and backends.has_output(backend)
    assert backend.read_frame() is None
    tone = np.full(FRAME_SAMPLES, 1234, dtype=np.int16)
    backend.write_frame(tone)
    out = np.zeros((FRAME_SAMPLES, 1), dtype=np.int16)
    stream = backend._stream  # type: ignore[attr-defined]
    stream.callback(out, FRAME_SAMPLES, None, None)
    assert (out[:, 0] == 1234).all()


def test_a_full_sound_card_opens_duplex(card: list[dict[str, Any]]) -> None:
    card.append(_device("card", 1, 2))
    backend = backends.open_device_backend(3, 4)
    assert FakeStream.opened == [("duplex", (3, 4))]
    assert backends.has_input(backend) and backends.has_output(backend)


def test_a_microphone_alone_opens_capture_only(card: list[dict[str, Any]]) -> None:
    card.append(_device("usb mic", 1, 0))
    backend = backends.open_device_backend()
    assert FakeStream.opened == [("input", None)]
    assert backends.has_input(backend) and not backends.has_output(backend)


def test_no_device_at_all_gives_the_null_backend(card: list[dict[str, Any]]) -> None:
    backend = backends.open_device_backend()
    assert FakeStream.opened == [] and isinstance(backend, backends.NullBackend)
    assert not backends.has_input(backend) and not backends.has_output(backend)


def test_the_real_sounddevice_without_a_card_gives_the_null_backend() -> None:
    try:
        backends.list_devices()
    except backends.BackendError:
        assert isinstance(backends.open_device_backend(), backends.NullBackend)
    else:
        pytest.skip("this machine has a sound card")
