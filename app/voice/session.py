"""`VoiceService`: a running node's voice: voice channels in rooms, direct calls, devices, mute.

The thin asyncio layer over the sans-IO parts: `VoiceRoster` (who is in which voice channel),
`CallBook` (direct calls) and `VoiceEngine` (Opus, jitter buffers, mixer). It is fed by the
NodeService's `live`, `voice` and `peers` listeners and sends through `send_live`/`send_voice`.
The device, the engine and its 10 ms clock are the audio half, `VoiceAudio` (app/voice/audio.py);
this module holds voice-channel membership, direct calls and their signalling over `live`.

Peer keys are `bytes` (Ed25519 public keys) here; the engine keys speakers by their hex.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.voice.api import VoiceError, VoiceListeners
from app.voice.audio import MAX_CATCHUP, TICK, VoiceAudio
from app.voice.backends import AudioBackend
from app.voice.calls import CALLEE_GRACE, RING_TIMEOUT, Call, CallBook, CallError, CallState
from app.voice.channels import VoiceMember, VoiceRoster
from app.voice.engine import VoiceEngine
from app.voice.vad import MIN_DB

if TYPE_CHECKING:
    from app.voice.host import VoiceHost

__all__ = ["MAX_CATCHUP", "TICK", "VoiceError", "VoiceListeners", "VoiceService"]

log = logging.getLogger(__name__)


class VoiceService(VoiceAudio):
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
