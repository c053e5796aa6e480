"""`VoiceService`: a running node's voice: voice channels in rooms, direct calls, devices, mute.

The thin asyncio layer over the sans-IO parts: `VoiceRoster` (who is in which voice channel),
`CallBook` (direct calls) and `VoiceEngine` (Opus, jitter buffers, mixer). It is fed by the
NodeService's `live`, `voice` and `peers` listeners and sends through `send_live`/`send_voice`.
While I am in a voice channel or an active call (or testing my mic) a 10 ms clock drives the
engine on a drift-free schedule from `loop.time()`, passing each tick's scheduled time; a stalled
loop is caught up with the missed ticks (the device kept capturing meanwhile), each yielding to the
loop first and waiting (a little) for packets the stall held up, and only a stall over
`MAX_CATCHUP` ticks is skipped.

Peer keys are `bytes` (Ed25519 public keys) here; the engine keys speakers by their hex.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.errors import HubbubError
from app.voice.backends import (AudioBackend, BackendError, DeviceInfo, has_input, has_output, input_devices,
                                open_device_backend, output_devices)
from app.voice.calls import CALLEE_GRACE, RING_TIMEOUT, Call, CallBook, CallError, CallState
from app.voice.channels import VoiceMember, VoiceRoster
from app.voice.engine import SPEAKING_HOLD, VoiceEngine
from app.voice.jitter import JitterStats
from app.voice.transport import CATCHUP_POLL, CATCHUP_SLACK, CATCHUP_WAIT
from app.voice.vad import MIN_DB, level_dbfs

if TYPE_CHECKING:
    from app.voice.host import VoiceHost

log = logging.getLogger(__name__)

TICK = 0.010
MAX_CATCHUP = 10  # ticks run back to back after a stall; a longer stall is skipped


class VoiceError(HubbubError):
    """Voice cannot do what was asked; the message is a sentence for the user."""


def _sentence(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


@dataclass
class VoiceListeners:
    """Callbacks for the UI; all are called on the event loop."""

    participants: list[Callable[[bytes, str], None]] = field(default_factory=list)  # (room_id, channel_id) changed
    speaking: list[Callable[[bytes, bool], None]] = field(default_factory=list)  # (peer, speaking now)
    calls: list[Callable[[Call], None]] = field(default_factory=list)  # a call changed state (incl. missed)
    state: list[Callable[[], None]] = field(default_factory=list)  # my own voice state changed


class VoiceService:
    """One node's voice, composed over its node service (any `VoiceHost`)."""

    def __init__(self, service: VoiceHost, backend_factory: Callable[[], AudioBackend] | None = None,
                 *, ring_timeout: float = RING_TIMEOUT) -> None:
        self.service = service
        self.me: bytes = service.node.profile.public_key
        self.backend_factory = backend_factory
        self.input_device: int | None = None
        self.output_device: int | None = None
        self.roster = VoiceRoster(self.me)
        self.calls = CallBook(ring_timeout=ring_timeout)
        self.listeners = VoiceListeners()
        self.engine: VoiceEngine | None = None
        self.backend: AudioBackend | None = None
        self.muted = False
        self.deafened = False
        self.push_to_talk = False
        self.ptt_pressed = False
        self.mic_test = False
        self.level_db = MIN_DB
        self.volumes: dict[bytes, float] = {}
        self.muted_peers: set[bytes] = set()
        self.ticks = 0
        self.skipped_ticks = 0
        self._clock: asyncio.Task[None] | None = None
        self._due: float | None = None  # while the clock runs: when its next tick is due
        self._speaking: set[bytes] = set()
        self._my_speech_at: float | None = None
        self._known_peers: set[bytes] = set(service.peer.peers())
        self._closed = False
        service.listeners.live.append(self._on_live)
        service.listeners.voice.append(self._on_voice)
        service.listeners.peers.append(self._on_peers)
        service.listeners.shared.append(self._on_shared)

    # ----- voice channels ---------------------------------------------------------------------------

    @property
    def channel(self) -> tuple[bytes, str] | None:
        """The (room_id, channel_id) of the voice channel I am in, if any."""
        mine = self.roster.mine
        return None if mine is None else (mine.room_id, mine.channel_id)

    def join(self, room_id: bytes, channel_id: str) -> None:
        """Join a voice channel of a room (leaving any other one, and hanging up a call)."""
        room = self.service.node.room(room_id)
        channel = next((c for c in room.channels() if c.id == channel_id), None)
        if channel is None or channel.kind != "voice":
            raise VoiceError(f"{room.name} has no voice channel {channel_id}.")
        if self.channel == (room_id, channel_id):
            return
        if self.calls.busy:
            self.hang_up()
        self._leave_channel()
        self._start_audio()
        self.roster.set_mine(VoiceMember(room_id, channel_id, self.muted or not self.can_speak, self.deafened))
        self._announce()
        self._participants_changed(room_id, channel_id)
        self._state_changed()

    def leave(self) -> None:
        """Leave the voice channel I am in (nothing if none)."""
        if self._leave_channel():
            self._stop_audio_if_idle()
            self._state_changed()

    def participants(self, room_id: bytes, channel_id: str) -> list[bytes]:
        """Who is in a voice channel right now: me first when I am in it."""
        return self.roster.participants(room_id, channel_id)

    def occupied_channels(self, room_id: bytes) -> dict[str, list[bytes]]:
        """channel_id -> participants, for each voice channel of the room that has anyone in it."""
        return self.roster.occupied(room_id)

    def member(self, peer: bytes) -> VoiceMember | None:
        """Where `peer` is and whether it announced itself muted/deafened."""
        return self.roster.members.get(peer)

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

    # ----- direct calls ---------------------------------------------------------------------------

    @property
    def current_call(self) -> Call | None:
        """The call that is ringing or active, if any."""
        return self.calls.current

    def call(self, peer: bytes, room_id: bytes | None = None) -> Call:
        """Ring `peer` (through a room we share, if given)."""
        if peer not in self.service.peer.peers():
            raise VoiceError("That member is not online.")
        try:
            call = self.calls.ring(peer, room_id, self._now())
        except CallError as exc:
            raise VoiceError("You are already in a call; hang up first.") from exc
        self._after_calls()
        return call

    def accept_call(self) -> Call:
        """Answer the call ringing here (leaving any voice channel)."""
        if self.calls.current is None or self.calls.current.state is not CallState.RINGING_IN:
            raise VoiceError("No call is ringing.")
        self._start_audio()  # a missing device fails here, before the caller hears "accepted"
        call = self.calls.accept(self._now())
        self._after_calls()
        return call

    def decline_call(self) -> Call:
        """Refuse the call ringing here."""
        try:
            call = self.calls.decline(self._now())
        except CallError as exc:
            raise VoiceError("No call is ringing.") from exc
        self._after_calls()
        return call

    def hang_up(self) -> Call | None:
        """End the current call, whatever its state."""
        call = self.calls.hang_up(self._now())
        self._after_calls()
        return call

    def missed_calls(self) -> list[Call]:
        """Incoming calls nobody answered, oldest first."""
        return self.calls.missed_calls()

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

    # ----- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Leave, hang up and release the device (the node is stopping)."""
        if self._closed:
            return
        if self.calls.busy:
            self.hang_up()
        self.leave()
        self.mic_test = False
        self._stop_audio()
        self._closed = True

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

    # ----- internals: signalling ------------------------------------------------------------------

    def _announce(self, to: bytes | None = None) -> None:
        mine = self.roster.mine
        if mine is not None:
            self.service.send_live(mine.room_id, self.roster.announcement(mine), to=to)

    def _reannounce_flags(self) -> None:
        mine = self.roster.mine
        if mine is not None:
            self.roster.set_mine(VoiceMember(mine.room_id, mine.channel_id, self.muted or not self.can_speak, self.deafened))
            self._announce()
            self._participants_changed(mine.room_id, mine.channel_id)
        self._state_changed()

    def _leave_channel(self) -> bool:
        mine = self.roster.mine
        if mine is None:
            return False
        self.roster.set_mine(None)
        self.service.send_live(mine.room_id, self.roster.announcement(None, left=mine))
        if self.engine is not None:
            for peer in self.roster.participants(mine.room_id, mine.channel_id):
                self.engine.receiver.remove_peer(peer.hex())
        self._participants_changed(mine.room_id, mine.channel_id)
        return True

    def _on_live(self, peer: bytes, room_id: bytes | None, msg: dict[str, Any]) -> None:
        kind = msg.get("t")
        if kind == "voice":
            old = self.roster.members.get(peer)
            changed = self.roster.receive(peer, room_id, msg)
            if changed is None:
                return
            if old is not None and (old.room_id, old.channel_id) != changed:
                self._peer_left(peer, (old.room_id, old.channel_id))
            elif peer not in self.roster.members:
                self._peer_left(peer, changed)
            if old is None and peer in self.roster.members:
                self._announce(to=peer)  # they may have missed my announcement
            self._participants_changed(*changed)
        elif kind == "call":
            self.calls.receive(peer, room_id, msg, self._now())
            self._after_calls()

    def _peer_left(self, peer: bytes, where: tuple[bytes, str]) -> None:
        if self.engine is not None:
            self.engine.receiver.remove_peer(peer.hex())
        if where != self.channel:
            self._participants_changed(*where)

    def _on_shared(self, peer: bytes, room_id: bytes) -> None:
        """A peer proved it holds a room: tell it if I am in one of that room's voice channels."""
        if self.channel is not None and self.channel[0] == room_id:
            self._announce(to=peer)

    def _on_peers(self) -> None:
        now_peers = set(self.service.peer.peers())
        for peer in now_peers - self._known_peers:
            self._announce(to=peer)
        for peer in self._known_peers - now_peers:
            where = self.roster.drop(peer)
            if where is not None:
                self._peer_left(peer, where)
                if where == self.channel:
                    self._participants_changed(*where)
            self.calls.peer_gone(peer, self._now())
        self._known_peers = now_peers
        self._after_calls()

    def _after_calls(self) -> None:
        """Send what the call machine queued, react to its changes, and arm its ring timer."""
        outbox, self.calls.outbox = self.calls.outbox, []
        for peer, room_id, msg in outbox:
            self.service.send_live(room_id, msg, to=peer)
        changes, self.calls.changes = self.calls.changes, []
        for call in changes:
            if call.state is CallState.ACTIVE:
                if self.channel is not None:
                    self._leave_channel()
                try:
                    self._start_audio()
                except VoiceError as exc:
                    log.warning("hanging up: %s", exc)
                    self.calls.hang_up(self._now())
                    self._after_calls()
            elif call.state is CallState.ENDED:
                if self.engine is not None:
                    self.engine.receiver.remove_peer(call.peer.hex())
                self._stop_audio_if_idle()
            elif call.state in (CallState.RINGING_IN, CallState.RINGING_OUT):
                loop = asyncio.get_running_loop()
                for delay in (self.calls.ring_timeout, self.calls.ring_timeout + CALLEE_GRACE):
                    loop.call_later(delay + 0.01, self._ring_timer)
            for cb in self.listeners.calls:
                cb(call)
        if changes:
            self._state_changed()

    def _ring_timer(self) -> None:
        if self._closed:
            return
        self.calls.tick(self._now())
        self._after_calls()

    def _participants_changed(self, room_id: bytes, channel_id: str) -> None:
        for cb in self.listeners.participants:
            cb(room_id, channel_id)

    def _state_changed(self) -> None:
        for cb in self.listeners.state:
            cb()

