"""What `VoiceService` (app/voice/session.py) gives the UI besides its methods: its error type and its listener callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.errors import HubbubError
from app.voice.calls import Call


class VoiceError(HubbubError):
    """Voice cannot do what was asked; the message is a sentence for the user."""


@dataclass
class VoiceListeners:
    """Callbacks for the UI; all are called on the event loop."""

    participants: list[Callable[[bytes, str], None]] = field(default_factory=list)  # (room_id, channel_id) changed
    speaking: list[Callable[[bytes, bool], None]] = field(default_factory=list)  # (peer, speaking now)
    calls: list[Callable[[Call], None]] = field(default_factory=list)  # a call changed state (incl. missed)
    state: list[Callable[[], None]] = field(default_factory=list)  # my own voice state changed
