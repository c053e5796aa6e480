"""Direct calls between two members: a sans-IO state machine carried on the `live` channel.

One `CallBook` per node holds at most one call that is not over. Every method takes `now` and
returns nothing; what to send is queued in `outbox` as `(peer, room_id, message)` and every
change of a call is queued in `changes`, for the asyncio glue (`app.voice.session`) to drain.

States and transitions (also in docs/voice.md)::

    caller                                   callee
    ------                                   ------
    ring()        -> RINGING_OUT  --ring-->  RINGING_IN   (busy: --busy--> caller ENDED/BUSY)
    accept msg    -> ACTIVE       <-accept-- accept()  -> ACTIVE
    decline msg   -> ENDED/DECLINED <-decline- decline() -> ENDED/DECLINED
    timeout       -> ENDED/MISSED --cancel(missed)--> ENDED/MISSED  (a missed-call notice)
    hang_up()     -> ENDED/CANCELLED --cancel--> ENDED/MISSED       (rang, nobody answered)
    ACTIVE: hang_up() -> ENDED/HUNG_UP --hangup--> ENDED/HUNG_UP
    any state: the peer's session drops -> ENDED/LOST

The callee also gives up after `ring_timeout + CALLEE_GRACE` if no cancel arrives. Messages are
`{"t": "call", "k": kind, "id": call_id}` (plus `"r": reason` on cancel); a message whose id does
not match the current call with that peer is ignored, so stale or forged messages change nothing.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from typing import Any

RING_TIMEOUT = 30.0  # seconds a call rings before it counts as missed
CALLEE_GRACE = 2.0  # the callee waits this much longer for the caller's cancel
KINDS = ("ring", "accept", "decline", "cancel", "hangup", "busy")


class CallState(enum.Enum):
    """Where a direct call is."""

    RINGING_OUT = "ringing_out"  # I called; their node is ringing
    RINGING_IN = "ringing_in"  # they call me; my node is ringing
    ACTIVE = "active"  # both accepted: audio flows
    ENDED = "ended"  # over; `reason` says how


class EndReason(enum.Enum):
    """How a call ended."""

    HUNG_UP = "hung_up"  # it was answered, then one side hung up
    DECLINED = "declined"  # the callee declined
    MISSED = "missed"  # it rang out unanswered (both sides), or the caller gave up first (callee)
    CANCELLED = "cancelled"  # the caller hung up while it was still ringing (caller's view)
    BUSY = "busy"  # the callee was already in a call
    LOST = "lost"  # the peer's session dropped


@dataclass
class Call:
    """One direct call, as this node sees it."""

    id: str
    peer: bytes
    room_id: bytes | None
    outgoing: bool
    state: CallState
    started_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    reason: EndReason | None = None
    hung_up_by_me: bool = False

    @property
    def missed(self) -> bool:
        """An incoming call nobody answered: the missed-call notice."""
        return not self.outgoing and self.reason is EndReason.MISSED


class CallError(Exception):
    """A call action that does not fit the current state (a programming or UI error)."""


@dataclass
class CallBook:
    """The sans-IO direct-call machine of one node (at most one call under way)."""

    ring_timeout: float = RING_TIMEOUT
    current: Call | None = None
    history: list[Call] = field(default_factory=list)
    outbox: list[tuple[bytes, bytes | None, dict[str, Any]]] = field(default_factory=list)
    changes: list[Call] = field(default_factory=list)

    # ----- local actions ----------------------------------------------------------------------

    def ring(self, peer: bytes, room_id: bytes | None, now: float, call_id: str | None = None) -> Call:
        """Call `peer` (through a room we share with them, or None)."""
        if self.busy:
            raise CallError("a call is already under way")
        call = Call(call_id or secrets.token_hex(8), peer, room_id, True, CallState.RINGING_OUT, now)
        self.current = call
        self._send(call, "ring")
        self._changed(call)
        return call

    def accept(self, now: float) -> Call:
        """Answer the call that is ringing here."""
        call = self._expect(CallState.RINGING_IN)
        call.state = CallState.ACTIVE
        call.answered_at = now
        self._send(call, "accept")
        self._changed(call)
        return call

    def decline(self, now: float) -> Call:
        """Refuse the call that is ringing here."""
        call = self._expect(CallState.RINGING_IN)
        self._send(call, "decline")
        return self._end(call, EndReason.DECLINED, now, by_me=True)

    def hang_up(self, now: float) -> Call | None:
        """End the current call whatever its state (a ringing incoming call is declined)."""
        call = self.current
        if call is None:
            return None
        if call.state is CallState.RINGING_IN:
            return self.decline(now)
        if call.state is CallState.RINGING_OUT:
            self._send(call, "cancel", r="cancelled")
            return self._end(call, EndReason.CANCELLED, now, by_me=True)
        self._send(call, "hangup")
        return self._end(call, EndReason.HUNG_UP, now, by_me=True)

    # ----- events from outside ------------------------------------------------------------------

    def receive(self, peer: bytes, room_id: bytes | None, msg: dict[str, Any], now: float) -> None:
        """Handle a `{"t": "call", ...}` live message from `peer`."""
        kind, call_id = msg.get("k"), msg.get("id")
        if kind not in KINDS or not isinstance(call_id, str) or not 0 < len(call_id) <= 64:
            return
        call = self.current
        if kind == "ring":
            if call is not None and call.peer == peer and call.id == call_id:
                return  # a repeated ring
            if self.busy:
                self.outbox.append((peer, room_id, {"t": "call", "k": "busy", "id": call_id}))
                return
            incoming = Call(call_id, peer, room_id, False, CallState.RINGING_IN, now)
            self.current = incoming
            self._changed(incoming)
            return
        if call is None or call.peer != peer or call.id != call_id:
            return
        if kind == "accept" and call.state is CallState.RINGING_OUT:
            call.state = CallState.ACTIVE
            call.answered_at = now
            self._changed(call)
        elif kind == "decline" and call.state is CallState.RINGING_OUT:
            self._end(call, EndReason.DECLINED, now)
        elif kind == "busy" and call.state is CallState.RINGING_OUT:
            self._end(call, EndReason.BUSY, now)
        elif kind == "cancel" and call.state is CallState.RINGING_IN:
            self._end(call, EndReason.MISSED, now)
        elif kind == "hangup" and call.state is CallState.ACTIVE:
            self._end(call, EndReason.HUNG_UP, now)

    def tick(self, now: float) -> None:
        """Apply ring timeouts; call every so often (a second is plenty)."""
        call = self.current
        if call is None:
            return
        if call.state is CallState.RINGING_OUT and now - call.started_at >= self.ring_timeout:
            self._send(call, "cancel", r="missed")
            self._end(call, EndReason.MISSED, now)
        elif call.state is CallState.RINGING_IN and now - call.started_at >= self.ring_timeout + CALLEE_GRACE:
            self._end(call, EndReason.MISSED, now)

    def peer_gone(self, peer: bytes, now: float) -> None:
        """The session with `peer` dropped: a call with them is over."""
        call = self.current
        if call is not None and call.peer == peer:
            self._end(call, EndReason.LOST, now)

    # ----- queries ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A call is ringing or active."""
        return self.current is not None

    @property
    def active(self) -> Call | None:
        """The call whose audio flows now, if any."""
        call = self.current
        return call if call is not None and call.state is CallState.ACTIVE else None

    def missed_calls(self) -> list[Call]:
        """Incoming calls that rang out unanswered, oldest first."""
        return [c for c in self.history if c.missed]

    # ----- internals ----------------------------------------------------------------------------

    def _expect(self, state: CallState) -> Call:
        call = self.current
        if call is None or call.state is not state:
            raise CallError(f"no call is {state.value.replace('_', ' ')}")
        return call

    def _send(self, call: Call, kind: str, **extra: Any) -> None:
        self.outbox.append((call.peer, call.room_id, {"t": "call", "k": kind, "id": call.id, **extra}))

    def _end(self, call: Call, reason: EndReason, now: float, by_me: bool = False) -> Call:
        call.state = CallState.ENDED
        call.reason = reason
        call.ended_at = now
        call.hung_up_by_me = by_me
        if self.current is call:
            self.current = None
        self.history.append(call)
        self._changed(call)
        return call

    def _changed(self, call: Call) -> None:
        self.changes.append(call)
