"""The window's voice controller: joining and leaving voice channels, the voice bar, calls, and their notifications."""

from __future__ import annotations

from collections.abc import Callable

from app.errors import HubbubError
from app.models import short_id

from ..state.session import Session
from ..state.voice import VoiceState
from .sidebar import ChannelPanel


class VoiceControls:
    """Turns clicks on voice channels and the voice bar into `VoiceState` actions, and shows where my voice is."""

    def __init__(self, session: Session, voice: VoiceState, channels: ChannelPanel, show_error: Callable[[str], None],
                 notify: Callable[[str, str], None], refresh_channels: Callable[[], None]) -> None:
        self.session = session
        self.voice = voice
        self.channels = channels
        self.show_error = show_error
        self.notify = notify
        self.refresh_channels = refresh_channels
        v = voice
        v.participants_changed.connect(self.on_participants)
        v.speaking_changed.connect(channels.set_speaking)
        v.state_changed.connect(self.on_state)
        v.call_changed.connect(self.on_call)
        v.missed_call.connect(lambda short: self.notify("Missed call", f"{self.name(short)} called you."))
        channels.voice_chosen.connect(self.click_voice_channel)
        channels.mute_toggled.connect(lambda on: self.do(v.set_muted, on))
        channels.deafen_toggled.connect(lambda on: self.do(v.set_deafened, on))
        channels.voice_bar.leave_clicked.connect(self.leave)
        channels.voice_bar.accept_clicked.connect(lambda: self.do(v.accept))
        channels.voice_bar.decline_clicked.connect(lambda: self.do(v.decline))

    def name(self, short: str) -> str:
        room = self.session.room
        return room.name_of(short) if room is not None else short

    def do(self, action: object, *args: object) -> None:
        """Run a voice action; its refusal is shown as a sentence, and the voice bar follows what happened."""
        try:
            action(*args)  # type: ignore[operator]
        except HubbubError as exc:
            self.show_error(str(exc))
        self.on_state()

    def click_voice_channel(self, channel: str) -> None:
        """Join the clicked voice channel, or leave it when I am in it."""
        room = self.session.room
        if room is not None:
            self.do(self.voice.click_channel, room.id, channel)

    def leave(self) -> None:
        if self.voice.current_call is not None:
            self.voice.hang_up()
        else:
            self.voice.leave()
        self.on_state()

    def on_participants(self, room_id: bytes, channel: str) -> None:
        if self.session.room is not None and self.session.room.id == room_id:
            self.refresh_channels()

    def on_state(self) -> None:
        v = self.voice
        self.channels.set_voice_flags(v.muted, v.deafened)
        problem = v.audio_problem()
        self.channels.set_mic_available(v.can_speak, problem)
        note = f"<br><span style='color:#f0b232'>{problem}</span>" if problem else ""
        call = v.current_call
        if call is not None:
            who = self.name(short_id(call.peer))
            state = call.state.value
            text = {"ringing_in": f"<b>{who}</b> is calling you…", "ringing_out": f"Calling <b>{who}</b>…",
                    "active": f"In a call with <b>{who}</b>"}.get(state, "")
            self.channels.voice_bar.show_state(text + (note if state == "active" else ""), ringing_in=state == "ringing_in",
                                               leave_tip="Hang up")
        elif v.channel is not None:
            room_id, channel = v.channel
            try:
                room = self.session.node.room(room_id)
                name = next((c.name for c in room.channels() if c.id == channel), channel)
                where = f"{name} · {room.name}"
            except HubbubError:
                where = channel
            self.channels.voice_bar.show_state(f"<b style='color:#23a55a'>Voice connected</b><br>{where}{note}", leave_tip="Leave")
        else:
            self.channels.voice_bar.show_state("")
        self.refresh_channels()

    def on_call(self, call: object) -> None:
        self.on_state()
        current = self.voice.current_call
        if current is not None and current.state.value == "ringing_in":
            self.notify("Incoming call", f"{self.name(short_id(current.peer))} is calling you.")
