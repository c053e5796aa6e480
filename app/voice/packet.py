"""The voice packet: one Opus frame plus the header a receiver needs to play it in order.

Wire layout (network byte order, 8-byte header)::

    u8  version         (PACKET_VERSION)
    u8  flags           (FLAG_* bits; unknown bits are an error)
    u16 sequence        (+1 per packet *sent*, wraps at 65536)
    u32 timestamp       (sender sample clock at 48 kHz, +480 per 10 ms frame, sent or not)
    ... payload         (one Opus packet, at most MAX_PAYLOAD bytes)

A packet with FLAG_REPORT set is instead a receiver's report to the sender (sequence and timestamp
0, payload one byte: the loss it sees, in percent), which drives the encoder's FEC and bitrate.

The sequence number counts packets, so a gap in it means loss; the timestamp counts frames, so a
jump in it with no sequence gap means the sender was silent (DTX). This is RTP's split.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PACKET_VERSION = 1
HEADER = struct.Struct("!BBHI")
HEADER_SIZE = HEADER.size
MAX_PAYLOAD = 1275  # the largest single Opus frame (RFC 6716, 3.2.1)
MAX_PACKET = HEADER_SIZE + MAX_PAYLOAD

FLAG_DTX = 0x01  # the sender goes silent after this frame; missing frames that follow are not loss
FLAG_FEC = 0x02  # the payload carries in-band FEC for the previous frame
FLAG_SPEECH = 0x04  # the sender's voice-activity detector says this frame is speech
FLAG_REPORT = 0x80  # not audio: a receiver's loss report; the payload is one byte, loss in %
_KNOWN_FLAGS = FLAG_DTX | FLAG_FEC | FLAG_SPEECH | FLAG_REPORT

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32


class PacketError(ValueError):
    """A voice packet that cannot be parsed or built. The only error `VoicePacket.parse` raises."""


def seq_diff(a: int, b: int) -> int:
    """Signed distance a - b between two u16 sequence numbers, allowing for wraparound."""
    return ((a - b + SEQ_MOD // 2) % SEQ_MOD) - SEQ_MOD // 2


def ts_diff(a: int, b: int) -> int:
    """Signed distance a - b between two u32 sample timestamps, allowing for wraparound."""
    return ((a - b + TS_MOD // 2) % TS_MOD) - TS_MOD // 2


@dataclass(frozen=True, slots=True)
class VoicePacket:
    """One voice packet: sequence number, sample timestamp, flags and an Opus payload."""

    sequence: int
    timestamp: int
    payload: bytes
    flags: int = 0

    @property
    def dtx(self) -> bool:
        """True when the sender stops transmitting after this frame (silence follows)."""
        return bool(self.flags & FLAG_DTX)

    @property
    def fec(self) -> bool:
        """True when the payload carries in-band FEC for the previous frame."""
        return bool(self.flags & FLAG_FEC)

    @property
    def speech(self) -> bool:
        """True when the sender's VAD classed this frame as speech."""
        return bool(self.flags & FLAG_SPEECH)

    @property
    def report(self) -> bool:
        """True when this is a receiver's loss report, not audio."""
        return bool(self.flags & FLAG_REPORT)

    @property
    def reported_loss(self) -> int:
        """The loss percentage carried by a report packet."""
        return self.payload[0]

    @classmethod
    def loss_report(cls, loss_pct: float) -> VoicePacket:
        """A report packet telling a sender the loss (0-100 %) this receiver sees."""
        return cls(0, 0, bytes([max(0, min(100, round(loss_pct)))]), FLAG_REPORT)

    def to_bytes(self) -> bytes:
        """Serialise the packet; raises PacketError if a field is out of range."""
        if not 0 <= self.sequence < SEQ_MOD:
            raise PacketError(f"sequence {self.sequence} out of range")
        if not 0 <= self.timestamp < TS_MOD:
            raise PacketError(f"timestamp {self.timestamp} out of range")
        if self.flags & ~_KNOWN_FLAGS or self.flags < 0:
            raise PacketError(f"unknown flags {self.flags:#x}")
        if len(self.payload) > MAX_PAYLOAD:
            raise PacketError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        return HEADER.pack(PACKET_VERSION, self.flags, self.sequence, self.timestamp) + self.payload

    @classmethod
    def parse(cls, data: bytes) -> VoicePacket:
        """Parse wire bytes; any malformed input raises PacketError and nothing else."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise PacketError("voice packet must be bytes")
        raw = bytes(data)
        if len(raw) < HEADER_SIZE:
            raise PacketError(f"packet of {len(raw)} bytes is shorter than the header")
        if len(raw) > MAX_PACKET:
            raise PacketError(f"packet of {len(raw)} bytes exceeds {MAX_PACKET}")
        version, flags, sequence, timestamp = HEADER.unpack_from(raw)
        if version != PACKET_VERSION:
            raise PacketError(f"unsupported voice packet version {version}")
        if flags & ~_KNOWN_FLAGS:
            raise PacketError(f"unknown flags {flags:#x}")
        payload = raw[HEADER_SIZE:]
        if flags & FLAG_REPORT and (flags != FLAG_REPORT or len(payload) != 1 or payload[0] > 100):
            raise PacketError("malformed loss report")
        return cls(sequence=sequence, timestamp=timestamp, payload=payload, flags=flags)
