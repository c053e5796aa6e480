"""The sans-IO voice core: `VoiceSender` (PCM in, packets out) and `VoiceReceiver` (packets in,
PCM out), and `VoiceEngine`, one node's pair of them with loss reports routed between.

Nothing here sleeps, awaits or touches a socket: callers pass `now` (seconds, any monotonic clock)
and move the bytes themselves (see `app.voice.transport`). A receiver's `pull` must be called once
per 10 ms; a sender's `push_pcm` once per captured 10 ms frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.voice.codec import FRAME_SAMPLES, Frame, OpusEncoder, as_frame, silence
from app.voice.jitter import JitterBuffer, JitterStats
from app.voice.mixer import Mixer
from app.voice.packet import (
    FLAG_DTX,
    FLAG_FEC,
    FLAG_SPEECH,
    SEQ_MOD,
    TS_MOD,
    PacketError,
    VoicePacket,
)
from app.voice.vad import VoiceActivityDetector

SPEAKING_HOLD = 0.25  # seconds the speaking indicator stays lit after the last speech frame
REPORT_INTERVAL = 1.0  # seconds between a receiver's loss reports to each sender
REPORT_MAX_AGE = 5.0  # a sender forgets loss reports older than this


class VoiceSender:
    """Turns captured 10 ms frames into voice packets: noise gate, mute, push-to-talk, Opus, DTX.

    While the gate is closed (or the user is muted, or push-to-talk is released) nothing is sent
    but one faded-out packet flagged DTX, so receivers know the silence that follows is not loss.
    """

    def __init__(
        self,
        encoder: OpusEncoder | None = None,
        vad: VoiceActivityDetector | None = None,
        *,
        gate: bool = True,
        push_to_talk: bool = False,
        first_sequence: int = 0,
        first_timestamp: int = 0,
    ) -> None:
        self.encoder = encoder if encoder is not None else OpusEncoder()
        self.vad = vad if vad is not None else VoiceActivityDetector()
        self.gate = gate
        self.push_to_talk = push_to_talk
        self.ptt_pressed = False
        self.muted = False
        self.speaking = False
        self.frames_in = 0
        self.packets_out = 0
        self.last_timestamp = 0  # the timestamp given to the frame pushed last
        self._seq = first_sequence % SEQ_MOD
        self._ts = first_timestamp % TS_MOD
        self._sending = False  # the previous frame was sent as speech
        self._reports: dict[str, tuple[float, int]] = {}

    @property
    def level_db(self) -> float:
        """Input level of the last frame in dBFS, for a level meter."""
        return self.vad.level_db

    def set_ptt(self, pressed: bool) -> None:
        """Press or release the push-to-talk key (only matters with `push_to_talk` on)."""
        self.ptt_pressed = pressed

    def on_report(self, peer: str, loss_pct: int, now: float) -> None:
        """Take a receiver's loss report; the encoder adapts to the worst recent one."""
        self._reports[peer] = (now, loss_pct)
        fresh = [pct for at, pct in self._reports.values() if now - at <= REPORT_MAX_AGE]
        self.encoder.set_loss(max(fresh, default=0))

    def _packet(self, payload: bytes, flags: int) -> bytes:
        data = VoicePacket(self._seq, self.last_timestamp, payload, flags).to_bytes()
        self._seq = (self._seq + 1) % SEQ_MOD
        self.packets_out += 1
        return data

    def push_pcm(self, frame: npt.ArrayLike, now: float) -> list[bytes]:
        """Feed one captured 10 ms frame; returns the packets to send to every listener (0 or 1)."""
        pcm = as_frame(frame)
        self.frames_in += 1
        self.last_timestamp = self._ts
        self._ts = (self._ts + FRAME_SAMPLES) % TS_MOD
        voice = self.vad.process(pcm) if self.gate else True
        transmit = not self.muted and (self.ptt_pressed or not self.push_to_talk)
        active = voice and transmit
        self.speaking = active
        if active:
            payload = self.encoder.encode(pcm)
            if len(payload) > 2 or not self.encoder.dtx:
                flags = FLAG_SPEECH
                if self._sending and self.encoder.fec and self.encoder.expected_loss_pct > 0:
                    flags |= FLAG_FEC
                self._sending = True
                return [self._packet(payload, flags)]
            # Opus's own DTX found nothing worth sending (1-2 byte packet): treat it as silence.
        if not self._sending:
            return []
        self._sending = False
        fade = np.linspace(1.0, 0.0, FRAME_SAMPLES, dtype=np.float32)
        tail = self.encoder.encode((pcm.astype(np.float32) * fade).astype(np.int16))
        return [self._packet(tail, FLAG_DTX)]


class VoiceReceiver:
    """Receives many speakers' packets and mixes them into one 10 ms frame per `pull`.

    Per speaker there is a `JitterBuffer` (with its own Opus decoder); local mute and volume per
    speaker and deafen are applied in the mixer. Malformed packets are counted and dropped.
    """

    def __init__(self, buffer_factory: Callable[[], JitterBuffer] | None = None) -> None:
        self._factory = buffer_factory if buffer_factory is not None else JitterBuffer
        self.buffers: dict[str, JitterBuffer] = {}
        self.mixer = Mixer()
        self.deafened = False
        self.muted_peers: set[str] = set()
        self.bad_packets = 0
        self.reports: list[tuple[str, int]] = []  # loss reports received: (peer, loss %)
        self.last_frames: dict[str, Frame] = {}  # each speaker's frame in the last pull
        self._now = 0.0
        self._last_report: dict[str, float] = {}

    def receive(self, peer: str, data: bytes, now: float) -> None:
        """Accept one packet from `peer` received at `now`; bad packets are counted, not raised."""
        try:
            packet = VoicePacket.parse(data)
        except PacketError:
            self.bad_packets += 1
            return
        if packet.report:
            self.reports.append((peer, packet.reported_loss))
            return
        buf = self.buffers.get(peer)
        if buf is None:
            buf = self.buffers[peer] = self._factory()
        buf.push(packet, now)

    def pull(self, now: float) -> Frame:
        """The mixed 10 ms frame to play at `now`; call exactly once per 10 ms."""
        self._now = now
        frames: dict[str, Frame] = {}
        for peer, buf in self.buffers.items():
            frame = buf.pop(now)
            frames[peer] = frame
        self.last_frames = frames
        if self.deafened:
            return silence()
        audible = {p: f for p, f in frames.items() if p not in self.muted_peers}
        return self.mixer.mix(audible)

    def starved(self) -> bool:
        """Whether any speaker's buffer is mid-spurt with nothing to play (`JitterBuffer.starved`)."""
        return any(buf.starved for buf in self.buffers.values())

    def speaking(self, peer: str) -> bool:
        """Whether `peer` has played speech within the last SPEAKING_HOLD seconds."""
        buf = self.buffers.get(peer)
        if buf is None or buf.last_speech_at is None:
            return False
        return self._now - buf.last_speech_at <= SPEAKING_HOLD

    def set_volume(self, peer: str, volume: float) -> None:
        """Set `peer`'s playback gain (1.0 unchanged)."""
        self.mixer.set_volume(peer, volume)

    def set_peer_muted(self, peer: str, muted: bool) -> None:
        """Locally mute or unmute one speaker (they still show as speaking)."""
        if muted:
            self.muted_peers.add(peer)
        else:
            self.muted_peers.discard(peer)

    def set_deafened(self, deafened: bool) -> None:
        """Deafen: play nothing (streams keep running so speaking indicators stay right)."""
        self.deafened = deafened

    def stats(self, peer: str) -> JitterStats:
        """The jitter-buffer counters of one speaker."""
        return self.buffers[peer].stats

    def remove_peer(self, peer: str) -> None:
        """Forget a speaker who left."""
        self.buffers.pop(peer, None)
        self.last_frames.pop(peer, None)
        self._last_report.pop(peer, None)

    def due_reports(self, now: float) -> list[tuple[str, bytes]]:
        """Loss reports to send back, at most one per speaker per REPORT_INTERVAL."""
        out: list[tuple[str, bytes]] = []
        for peer, buf in self.buffers.items():
            if now - self._last_report.get(peer, -REPORT_INTERVAL) >= REPORT_INTERVAL:
                self._last_report[peer] = now
                out.append((peer, VoicePacket.loss_report(buf.loss_pct).to_bytes()))
        return out


@dataclass
class Outgoing:
    """Bytes to send: to one peer, or to every peer in the call when `peer` is None."""

    peer: str | None
    data: bytes


class VoiceEngine:
    """One node's voice: a sender and a receiver, with loss reports routed to the sender."""

    def __init__(self, sender: VoiceSender | None = None, receiver: VoiceReceiver | None = None) -> None:
        self.sender = sender if sender is not None else VoiceSender()
        self.receiver = receiver if receiver is not None else VoiceReceiver()

    def receive(self, peer: str, data: bytes, now: float) -> None:
        """Accept bytes from the voice channel of `peer`."""
        self.receiver.receive(peer, data, now)
        for who, pct in self.receiver.reports:
            self.sender.on_report(who, pct, now)
        self.receiver.reports.clear()

    def tick(self, pcm: npt.ArrayLike | None, now: float) -> tuple[Frame, list[Outgoing]]:
        """One 10 ms step: the captured frame (None: nothing captured) in; the frame to play and
        the bytes to send out."""
        out: list[Outgoing] = []
        if pcm is not None:
            out.extend(Outgoing(None, data) for data in self.sender.push_pcm(pcm, now))
        out.extend(Outgoing(peer, data) for peer, data in self.receiver.due_reports(now))
        return self.receiver.pull(now), out
