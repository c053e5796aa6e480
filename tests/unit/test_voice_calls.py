"""The direct-call state machine and the voice-channel roster, sans-IO: two CallBooks wired by hand."""

from __future__ import annotations

from typing import Any

import pytest

from app.voice.calls import CALLEE_GRACE, CallBook, CallError, CallState, EndReason
from app.voice.channels import VoiceMember, VoiceRoster

A, B, C = b"a" * 32, b"b" * 32, b"c" * 32
ROOM = b"r" * 32


def deliver(books: dict[bytes, CallBook], sender: bytes, now: float, drop: bool = False) -> list[dict[str, Any]]:
    """Move everything `sender` queued to its recipients; returns the messages."""
    out, books[sender].outbox = books[sender].outbox, []
    for to, room, msg in out:
        if not drop:
            books[to].receive(sender, room, msg, now)
    return [m for _, _, m in out]


def pair(timeout: float = 30.0) -> dict[bytes, CallBook]:
    return {A: CallBook(ring_timeout=timeout), B: CallBook(ring_timeout=timeout), C: CallBook(ring_timeout=timeout)}


def test_ring_accept_hang_up() -> None:
    books = pair()
    call = books[A].ring(B, ROOM, 0.0)
    assert call.state is CallState.RINGING_OUT and call.outgoing
    assert [m["k"] for m in deliver(books, A, 0.1)] == ["ring"]
    incoming = books[B].current
    assert incoming is not None and incoming.state is CallState.RINGING_IN and incoming.peer == A
    assert incoming.room_id == ROOM and incoming.id == call.id
    books[B].accept(1.0)
    deliver(books, B, 1.1)
    assert call.state is CallState.ACTIVE and books[A].active is call
    assert books[B].active is incoming
    books[A].hang_up(5.0)
    deliver(books, A, 5.1)
    assert call.state is incoming.state is CallState.ENDED
    assert call.reason is incoming.reason is EndReason.HUNG_UP
    assert call.hung_up_by_me and not incoming.hung_up_by_me
    assert books[A].current is None and books[B].current is None
    assert books[B].missed_calls() == []


def test_decline() -> None:
    books = pair()
    call = books[A].ring(B, None, 0.0)
    deliver(books, A, 0.0)
    books[B].decline(2.0)
    assert [m["k"] for m in deliver(books, B, 2.0)] == ["decline"]
    assert call.state is CallState.ENDED and call.reason is EndReason.DECLINED
    assert books[B].history[-1].reason is EndReason.DECLINED
    assert not books[B].busy and books[B].missed_calls() == []


def test_ring_timeout_is_a_missed_call_on_both_sides() -> None:
    books = pair(timeout=10.0)
    call = books[A].ring(B, ROOM, 0.0)
    deliver(books, A, 0.0)
    books[A].tick(9.9)
    assert call.state is CallState.RINGING_OUT
    books[A].tick(10.0)
    assert call.state is CallState.ENDED and call.reason is EndReason.MISSED
    assert [m["k"] for m in deliver(books, A, 10.0)] == ["cancel"]
    missed = books[B].missed_calls()
    assert len(missed) == 1 and missed[0].peer == A and missed[0].missed


def test_callee_gives_up_when_the_cancel_is_lost() -> None:
    books = pair(timeout=10.0)
    books[A].ring(B, ROOM, 0.0)
    deliver(books, A, 0.0)
    books[A].tick(10.0)
    deliver(books, A, 10.0, drop=True)
    books[B].tick(10.0 + CALLEE_GRACE - 0.1)
    assert books[B].current is not None
    books[B].tick(10.0 + CALLEE_GRACE)
    assert books[B].current is None and len(books[B].missed_calls()) == 1


def test_caller_cancels_while_ringing() -> None:
    books = pair()
    call = books[A].ring(B, ROOM, 0.0)
    deliver(books, A, 0.0)
    books[A].hang_up(3.0)
    deliver(books, A, 3.0)
    assert call.reason is EndReason.CANCELLED
    assert [c.reason for c in books[B].history] == [EndReason.MISSED]


def test_busy_callee_answers_busy() -> None:
    books = pair()
    books[A].ring(B, ROOM, 0.0)
    deliver(books, A, 0.0)
    third = books[C].ring(B, ROOM, 0.5)
    deliver(books, C, 0.5)
    assert [m["k"] for m in deliver(books, B, 0.6)] == ["busy"]
    assert third.reason is EndReason.BUSY
    assert books[B].current is not None and books[B].current.peer == A  # the first call still rings


def test_forged_and_stale_messages_change_nothing() -> None:
    books = pair()
    call = books[A].ring(B, ROOM, 0.0)
    deliver(books, A, 0.0)
    books[A].receive(C, ROOM, {"t": "call", "k": "accept", "id": call.id}, 0.1)  # wrong peer
    books[A].receive(B, ROOM, {"t": "call", "k": "accept", "id": "other"}, 0.1)  # wrong id
    books[A].receive(B, ROOM, {"t": "call", "k": "explode", "id": call.id}, 0.1)
    books[A].receive(B, ROOM, {"t": "call", "k": "accept", "id": 7}, 0.1)
    books[A].receive(B, ROOM, {"t": "call", "k": "hangup", "id": call.id}, 0.1)  # not active yet
    assert call.state is CallState.RINGING_OUT


def test_lost_session_ends_the_call() -> None:
    books = pair()
    call = books[A].ring(B, ROOM, 0.0)
    books[A].peer_gone(C, 0.5)
    assert call.state is CallState.RINGING_OUT
    books[A].peer_gone(B, 0.5)
    assert call.reason is EndReason.LOST and not books[A].busy


def test_actions_outside_their_state_raise() -> None:
    book = CallBook()
    with pytest.raises(CallError):
        book.accept(0.0)
    with pytest.raises(CallError):
        book.decline(0.0)
    assert book.hang_up(0.0) is None
    book.ring(B, None, 0.0)
    with pytest.raises(CallError):
        book.ring(C, None, 0.0)
    with pytest.raises(CallError):
        book.accept(0.0)  # it is my own outgoing call


def test_roster_announcements() -> None:
    roster = VoiceRoster(A)
    assert roster.receive(B, ROOM, {"t": "voice", "c": "lounge", "on": True}) == (ROOM, "lounge")
    assert roster.receive(B, ROOM, {"t": "voice", "c": "lounge", "on": True}) is None  # repeat
    roster.set_mine(VoiceMember(ROOM, "lounge"))
    assert roster.participants(ROOM, "lounge") == [A, B]
    assert roster.others_with_me() == [B]
    assert roster.receive(C, ROOM, {"t": "voice", "c": "stage", "on": True, "m": True}) == (ROOM, "stage")
    assert roster.members[C].muted and not roster.members[C].deafened
    assert roster.occupied(ROOM) == {"lounge": [A, B], "stage": [C]}
    # C moves to the lounge: one member per peer
    assert roster.receive(C, ROOM, {"t": "voice", "c": "lounge", "on": True}) == (ROOM, "lounge")
    assert roster.participants(ROOM, "stage") == []
    # leaving a channel one is not in changes nothing; leaving one's own does
    assert roster.receive(C, ROOM, {"t": "voice", "c": "stage", "on": False}) is None
    assert roster.receive(C, ROOM, {"t": "voice", "c": "lounge", "on": False}) == (ROOM, "lounge")
    assert roster.drop(B) == (ROOM, "lounge")
    assert roster.participants(ROOM, "lounge") == [A]
    # malformed, roomless and self-impersonating messages are ignored
    assert roster.receive(B, None, {"t": "voice", "c": "lounge", "on": True}) is None
    assert roster.receive(B, ROOM, {"t": "voice", "c": 5, "on": True}) is None
    assert roster.receive(B, ROOM, {"t": "voice", "c": "x" * 65, "on": True}) is None
    assert roster.receive(A, ROOM, {"t": "voice", "c": "lounge", "on": False}) is None
    assert roster.announcement(roster.mine) == {"t": "voice", "c": "lounge", "on": True, "m": False, "d": False}
