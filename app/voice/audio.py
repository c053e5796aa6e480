"""The audio half of `VoiceService`: the device, the engine and its 10 ms clock, mute, deafen, push-to-talk, volumes and who is speaking.

While I am in a voice channel or an active call (or testing my mic) a 10 ms clock drives the
engine on a drift-free schedule from `loop.time()`, passing each tick's scheduled time; a stalled
loop is caught up with the missed ticks (the device kept capturing meanwhile), each yielding to the
loop first and waiting (a little) for packets the stall held up, and only a stall over
`MAX_CATCHUP` ticks is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.voice.api import VoiceError, VoiceListeners
from app.voice.backends import (AudioBackend, BackendError, DeviceInfo, has_input, has_output, input_devices,
                                open_device_backend, output_devices)
from app.voice.calls import CallBook
from app.voice.channels import VoiceRoster
from app.voice.engine import SPEAKING_HOLD, VoiceEngine
from app.voice.jitter import JitterStats
from app.voice.transport import CATCHUP_POLL, CATCHUP_SLACK, CATCHUP_WAIT
from app.voice.vad import level_dbfs

if TYPE_CHECKING:
    from app.voice.host import VoiceHost

log = logging.getLogger(__name__)

TICK = 0.010
MAX_CATCHUP = 10  # ticks run back to back after a stall; a longer stall is skipped


def _sentence(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


class VoiceAudio:
    """The audio of a `VoiceService` (app/voice/session.py): what runs while I talk to anyone, and its settings."""

    service: VoiceHost
    me: bytes
    backend_factory: Callable[[], AudioBackend] | None
    input_device: int | None
    output_device: int | None
    roster: VoiceRoster
    calls: CallBook
    listeners: VoiceListeners
    engine: VoiceEngine | None
    backend: AudioBackend | None
    muted: bool
    deafened: bool
    push_to_talk: bool
    ptt_pressed: bool
    mic_test: bool
    level_db: float
    volumes: dict[bytes, float]
    muted_peers: set[bytes]
    ticks: int
    skipped_ticks: int
    _clock: asyncio.Task[None] | None
    _due: float | None
    _speaking: set[bytes]
    _my_speech_at: float | None

    def _reannounce_flags(self) -> None:
        """Tell the voice channel my new mute and deafen flags (`VoiceService._reannounce_flags`)."""
        raise NotImplementedError

    # ----- speaking, mute, deafen, push-to-talk, volume -------------------------------------------

    def speaking(self, peer: bytes) -> bool:
        """Whether `peer` (or I) is speaking right now."""
        return peer in self._speaking

    def set_muted(self, muted: bool) -> None:
        """Stop (or resume) sending my voice."""
        self.muted = muted
        if self.engine is not None:
            self.engine.sender.muted = muted
        self._reannounce_flags()

    def set_deafened(self, deafened: bool) -> None:
        """Stop (or resume) playing anyone; deafening also mutes, as in Mumble and Discord."""
        self.deafened = deafened
        if self.engine is not None:
            self.engine.receiver.set_deafened(deafened)
        if deafened and not self.muted:
            self.set_muted(True)
        else:
            self._reannounce_flags()

    def set_push_to_talk(self, enabled: bool) -> None:
        """Send only while the push-to-talk key is held (`set_ptt`)."""
        self.push_to_talk = enabled
        if self.engine is not None:
            self.engine.sender.push_to_talk = enabled
        self._state_changed()

    def set_ptt(self, pressed: bool) -> None:
        """The push-to-talk key went down (True) or up (False)."""
        self.ptt_pressed = pressed
        if self.engine is not None:
            self.engine.sender.set_ptt(pressed)

    def set_volume(self, peer: bytes, volume: float) -> None:
        """Playback gain for one peer: 1.0 unchanged, 0.0 silent, at most 4.0."""
        self.volumes[peer] = max(0.0, min(4.0, float(volume)))
        if self.engine is not None:
            self.engine.receiver.set_volume(peer.hex(), self.volumes[peer])

    def volume(self, peer: bytes) -> float:
        """A peer's playback gain (1.0 unless set)."""
        return self.volumes.get(peer, 1.0)

    def set_peer_muted(self, peer: bytes, muted: bool) -> None:
        """Mute one peer for me only."""
        if muted:
            self.muted_peers.add(peer)
        else:
            self.muted_peers.discard(peer)
        if self.engine is not None:
            self.engine.receiver.set_peer_muted(peer.hex(), muted)

    def stats(self, peer: bytes) -> JitterStats | None:
        """The jitter-buffer counters of one speaker, if they have sent anything."""
        if self.engine is None or peer.hex() not in self.engine.receiver.buffers:
            return None
        return self.engine.receiver.stats(peer.hex())

    # ----- devices --------------------------------------------------------------------------------

    @staticmethod
    def input_devices() -> list[DeviceInfo]:
        """Microphones for the input picker; VoiceError with a sentence when there are none."""
        try:
            return input_devices()
        except BackendError as exc:
            raise VoiceError(_sentence(exc)) from exc

    @staticmethod
    def output_devices() -> list[DeviceInfo]:
        """Speakers for the output picker; VoiceError with a sentence when there are none."""
        try:
            return output_devices()
        except BackendError as exc:
            raise VoiceError(_sentence(exc)) from exc

    def set_devices(self, input_device: int | None, output_device: int | None) -> None:
        """Choose the devices (None: the system default); reopens audio if it is running."""
        self.input_device, self.output_device = input_device, output_device
        if self.backend is not None and self.backend_factory is None:
            self._close_backend()
            self.backend = self._open_backend()

    @property
    def can_speak(self) -> bool:
        """Whether my audio has a microphone (True until audio runs: nobody knows before)."""
        return self.backend is None or has_input(self.backend)

    @property
    def can_hear(self) -> bool:
        """Whether my audio has a speaker or headphones (True until audio runs)."""
        return self.backend is None or has_output(self.backend)

    def audio_problem(self) -> str:
        """A sentence on what my audio lacks while it runs ("" when it has both halves)."""
        if not self.can_speak and not self.can_hear:
            return "No microphone or speaker was found: you cannot speak or hear, but you can see who is here."
        if not self.can_speak:
            return "No microphone was found, so you are listening only."
        if not self.can_hear:
            return "No speaker or headphones were found, so you cannot hear the others."
        return ""

    def set_mic_test(self, on: bool) -> None:
        """Loopback "test my mic": play my own input back to me (runs audio even outside a call)."""
        if on:
            self._start_audio()
        self.mic_test = on
        if not on:
            self._stop_audio_if_idle()
        self._state_changed()

    # ----- internals: audio ---------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _open_backend(self) -> AudioBackend:
        try:
            if self.backend_factory is not None:
                return self.backend_factory()
            return open_device_backend(self.input_device, self.output_device)
        except BackendError as exc:
            raise VoiceError(_sentence(exc)) from exc

    def _close_backend(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            try:
                backend.close()
            except Exception as exc:  # a device that vanished must not stop the node
                log.warning("closing the audio backend failed: %s", exc)

    def _start_audio(self) -> None:
        if self._clock is not None:
            return
        self.backend = self._open_backend()
        engine = VoiceEngine()
        engine.sender.muted = self.muted
        engine.sender.push_to_talk = self.push_to_talk
        engine.sender.set_ptt(self.ptt_pressed)
        engine.receiver.set_deafened(self.deafened)
        for peer, vol in self.volumes.items():
            engine.receiver.set_volume(peer.hex(), vol)
        for peer in self.muted_peers:
            engine.receiver.set_peer_muted(peer.hex(), True)
        self.engine = engine
        self._clock = asyncio.get_running_loop().create_task(self._run_clock(), name="hubbub-voice-clock")

    def _stop_audio(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None
        self._due = None
        self._close_backend()
        self.engine = None
        self._my_speech_at = None
        self._set_speaking(set())

    def _stop_audio_if_idle(self) -> None:
        if self._conversation() is None and not self.mic_test:
            self._stop_audio()

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            now = loop.time()
            behind = int((now - due) / TICK)
            if behind > MAX_CATCHUP:
                self.skipped_ticks += behind - MAX_CATCHUP
                due += (behind - MAX_CATCHUP) * TICK
            while due <= now:
                self._due = due
                if loop.time() - due > CATCHUP_SLACK:
                    # a catch-up tick: yield first, so packets held up by the same stall land
                    # before the pull (else the buffer stretches mid-word, then drops a frame)
                    await asyncio.sleep(0)
                    engine = self.engine
                    while engine is not None and engine.receiver.starved() and loop.time() - due < CATCHUP_WAIT:
                        await asyncio.sleep(CATCHUP_POLL)
                try:
                    self._tick(due)
                except Exception:
                    log.exception("voice tick failed")
                due += TICK
            self._due = due
            await asyncio.sleep(due - loop.time())

    def _conversation(self) -> tuple[list[bytes], bytes | None] | None:
        """The peers my voice goes to and the room it travels under, when I am talking to anyone."""
        active = self.calls.active
        if active is not None:
            return [active.peer], active.room_id
        mine = self.roster.mine
        if mine is not None:
            return self.roster.others_with_me(), mine.room_id
        return None

    def _tick(self, now: float) -> None:
        engine, backend = self.engine, self.backend
        if engine is None or backend is None:
            return
        self.ticks += 1
        frame = backend.read_frame()
        if frame is not None:
            self.level_db = level_dbfs(frame)
        talk = self._conversation()
        out, packets = engine.tick(frame if talk is not None else None, now)
        if talk is not None:
            peers, room_id = talk
            for item in packets:
                if item.peer is None:
                    for peer in peers:
                        self.service.send_voice(peer, room_id, item.data)
                elif bytes.fromhex(item.peer) in peers:
                    self.service.send_voice(bytes.fromhex(item.peer), room_id, item.data)
        if talk is not None and frame is not None and engine.sender.speaking:
            self._my_speech_at = now
        backend.write_frame(frame if self.mic_test and frame is not None else out)
        self._update_speaking(engine, now)

    def _update_speaking(self, engine: VoiceEngine, now: float) -> None:
        talking: set[bytes] = set()
        if self._my_speech_at is not None and now - self._my_speech_at <= SPEAKING_HOLD:
            talking.add(self.me)
        talk = self._conversation()
        for peer in talk[0] if talk is not None else []:
            if engine.receiver.speaking(peer.hex()):
                talking.add(peer)
        self._set_speaking(talking)

    def _set_speaking(self, talking: set[bytes]) -> None:
        if talking == self._speaking:
            return
        changed = talking ^ self._speaking
        self._speaking = talking
        for peer in sorted(changed):
            for cb in self.listeners.speaking:
                cb(peer, peer in talking)

    def _on_voice(self, peer: bytes, room_id: bytes | None, payload: bytes) -> None:
        engine = self.engine
        talk = self._conversation()
        if engine is None or talk is None or peer not in talk[0]:
            return
        # on the clock's schedule: while it catches up, a packet is in time for the next tick
        now = self._now()
        engine.receive(peer.hex(), payload, now if self._due is None else min(now, self._due))

    def _state_changed(self) -> None:
        for cb in self.listeners.state:
            cb()
