"""Hubbub's voice core: Opus over the unreliable `voice` data channel.

The core is sans-IO: :class:`~app.voice.engine.VoiceSender` turns 10 ms PCM frames into packets and
:class:`~app.voice.engine.VoiceReceiver` turns packets from many speakers into one 10 ms PCM frame
to play. Time is always passed in. Devices live behind :mod:`app.voice.backends`, and the asyncio
glue that moves packets over an aiortc data channel is :mod:`app.voice.transport`.
"""

from __future__ import annotations

from app.voice.codec import CHANNELS, FRAME_SAMPLES, SAMPLE_RATE
from app.voice.engine import VoiceReceiver, VoiceSender
from app.voice.packet import PacketError, VoicePacket

__all__ = [
    "CHANNELS",
    "FRAME_SAMPLES",
    "SAMPLE_RATE",
    "PacketError",
    "VoicePacket",
    "VoiceReceiver",
    "VoiceSender",
]
