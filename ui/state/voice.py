"""Voice as the window sees it: who is in which voice channel and speaking, my mute/deafen/push-to-talk, calls, devices.

A thin QObject over `app.voice.session.VoiceService` (reached through the live service once networking
runs). Its listeners are turned into Signals; every action returns None or raises `HubbubError` with a
sentence for the user. Without networking or a sound device the actions say so instead of crashing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.errors import HubbubError
from app.models import short_id

from ..services import LiveService

if TYPE_CHECKING:
    from app.voice.calls import Call
    from app.voice.session import VoiceService

NO_NETWORK = "Voice needs networking, which has not started (yet)."
PTT_KEY = "ui_ptt_key"
PTT_ON = "ui_ptt"
DEFAULT_PTT_KEY = "F8"


@dataclass(frozen=True, slots=True)
class VoiceParticipant:
    """One person in a voice channel, as the channel tree shows them."""

    key: bytes
    short: str
    speaking: bool
    muted: bool
    deafened: bool


@dataclass(frozen=True, slots=True)
class Devices:
    """The device pickers' content: (index, name) lists, or the sentence saying why there are none."""

    inputs: list[tuple[int, str]]
    outputs: list[tuple[int, str]]
    problem: str = ""


class VoiceState(QObject):
    """Voice state shared by the channel tree, the voice bar, the member menu and Preferences."""

    participants_changed = Signal(bytes, str)  # room id, voice channel id
    speaking_changed = Signal(str, bool)  # member short id, speaking now
    call_changed = Signal(object)  # app.voice.calls.Call
    missed_call = Signal(str)  # short id of who called
    state_changed = Signal()  # my channel, mute, deafen, push-to-talk, mic test

    def __init__(self, live: LiveService) -> None:
        super().__init__()
        self.live = live
        self._bound: VoiceService | None = None

    # ----- binding ----------------------------------------------------------------------------------

    @property
    def service(self) -> VoiceService | None:
        """The node's voice, once networking runs (listeners are hooked on first sight)."""
        voice = self.live.voice
        if voice is not None and voice is not self._bound:
            self._bound = voice
            voice.listeners.participants.append(self.participants_changed.emit)
            voice.listeners.speaking.append(lambda peer, on: self.speaking_changed.emit(short_id(peer), on))
            voice.listeners.calls.append(self._on_call)
            voice.listeners.state.append(self.state_changed.emit)
            self.state_changed.emit()
        return voice

    def _need(self) -> VoiceService:
        voice = self.service
        if voice is None:
            raise HubbubError(NO_NETWORK)
        return voice

    def _on_call(self, call: Call) -> None:
        self.call_changed.emit(call)
        if call.missed:
            self.missed_call.emit(short_id(call.peer))

    # ----- reading ------------------------------------------------------------------------------------

    @property
    def channel(self) -> tuple[bytes, str] | None:
        voice = self.service
        return voice.channel if voice is not None else None

    @property
    def muted(self) -> bool:
        voice = self.service
        return voice is not None and voice.muted

    @property
    def deafened(self) -> bool:
        voice = self.service
        return voice is not None and voice.deafened

    @property
    def can_speak(self) -> bool:
        """False while my audio runs without a microphone (listen-only)."""
        voice = self.service
        return voice is None or voice.can_speak

    def audio_problem(self) -> str:
        """What my running audio lacks, as a sentence ("" when nothing, or when no audio runs)."""
        voice = self.service
        return voice.audio_problem() if voice is not None else ""

    @property
    def current_call(self) -> Call | None:
        voice = self.service
        return voice.current_call if voice is not None else None

    def participants(self, room_id: bytes) -> dict[str, list[VoiceParticipant]]:
        """Voice channel id -> who is in it (me first), for the channel tree."""
        voice = self.service
        if voice is None:
            return {}
        out: dict[str, list[VoiceParticipant]] = {}
        for channel, keys in voice.occupied_channels(room_id).items():
            people = []
            for key in keys:
                member = voice.member(key)
                mine = key == voice.me
                people.append(VoiceParticipant(key, short_id(key), voice.speaking(key),
                                               (voice.muted or not voice.can_speak) if mine else bool(member and member.muted),
                                               voice.deafened if mine else bool(member and member.deafened)))
            out[channel] = people
        return out

    def volume(self, key: bytes) -> float:
        voice = self.service
        return voice.volume(key) if voice is not None else 1.0

    def peer_muted(self, key: bytes) -> bool:
        voice = self.service
        return voice is not None and key in voice.muted_peers

    def level_db(self) -> float | None:
        """My input level while audio runs (None when it does not)."""
        voice = self.service
        return voice.level_db if voice is not None and voice.engine is not None else None

    # ----- acting -------------------------------------------------------------------------------------

    def click_channel(self, room_id: bytes, channel_id: str) -> None:
        """Join a voice channel, or leave it when I am already in it."""
        voice = self._need()
        if voice.channel == (room_id, channel_id):
            voice.leave()
        else:
            voice.join(room_id, channel_id)

    def leave(self) -> None:
        voice = self.service
        if voice is not None:
            voice.leave()

    def set_muted(self, on: bool) -> None:
        self._need().set_muted(on)

    def set_deafened(self, on: bool) -> None:
        voice = self._need()
        voice.set_deafened(on)
        if not on and voice.muted:
            voice.set_muted(False)  # undeafening restores speech, as in Discord

    def set_push_to_talk(self, on: bool) -> None:
        voice = self.service
        if voice is not None:
            voice.set_push_to_talk(on)

    def push_to_talk(self, pressed: bool) -> None:
        voice = self.service
        if voice is not None and voice.push_to_talk:
            voice.set_ptt(pressed)

    def set_volume(self, key: bytes, volume: float) -> None:
        self._need().set_volume(key, volume)

    def set_peer_muted(self, key: bytes, on: bool) -> None:
        self._need().set_peer_muted(key, on)

    def call(self, key: bytes, room_id: bytes | None) -> None:
        self._need().call(key, room_id)

    def accept(self) -> None:
        self._need().accept_call()

    def decline(self) -> None:
        self._need().decline_call()

    def hang_up(self) -> None:
        voice = self.service
        if voice is not None:
            voice.hang_up()

    def devices(self) -> Devices:
        """Input and output devices for the pickers; with no sound card, a sentence instead."""
        from app.voice.session import VoiceService, VoiceError

        try:
            ins = [(d.index, d.name) for d in VoiceService.input_devices()]
            outs = [(d.index, d.name) for d in VoiceService.output_devices()]
        except VoiceError as exc:
            return Devices([], [], str(exc))
        except Exception as exc:  # PortAudio itself missing or broken
            return Devices([], [], f"Sound devices cannot be listed: {exc}")
        return Devices(ins, outs)

    def set_devices(self, input_device: int | None, output_device: int | None) -> None:
        self._need().set_devices(input_device, output_device)

    def set_mic_test(self, on: bool) -> None:
        voice = self._need()
        try:
            voice.set_mic_test(on)
        except HubbubError:
            voice.mic_test = False
            raise
