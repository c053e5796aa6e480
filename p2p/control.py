"""The session control protocol (sans-IO): challenge-response, room matching, keepalive, goodbye.

Runs on the `control` data channel once DTLS is up. Bytes go in through `receive`, frames to send
come out of `data_to_send`, and events out of `next_event`; no I/O, no clock. See docs/p2p.md
for the state machine::

    NEW --start (or their CHALLENGE first)--> CHALLENGED --their CHALLENGE / send PROOF--> PROVING
    PROVING --their valid PROOF / send TOKENS--> AUTHENTICATED --BYE either way--> CLOSED

Each side signs the transcript (both identity keys, both nonces, both DTLS fingerprints) plus its
side, which binds its identity key to this very DTLS session.
"""

from __future__ import annotations

import enum
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from p2p.errors import AuthError, FrameError
from p2p.frames import NONCE_SIZE, SIGNATURE_SIZE, FrameType, decode_frame, encode_frame, exact_size
from p2p.room_tokens import Match, make_tokens, match_tokens
from p2p.rooms import RoomSecret

TRANSCRIPT_CONTEXT = b"hubbub-session-v1\x00"
PROOF_CONTEXT = b"hubbub-proof-v1\x00"


class Role(enum.IntEnum):
    """Which end of the signaling exchange this side was; also the side byte in signatures."""

    DIALER = 0
    LISTENER = 1


class ControlState(enum.Enum):
    """Where the control protocol stands."""

    NEW = "new"
    CHALLENGED = "challenged"
    PROVING = "proving"
    AUTHENTICATED = "authenticated"
    CLOSED = "closed"


@dataclass(frozen=True)
class Authenticated:
    """The peer proved its identity key over this DTLS session."""


@dataclass(frozen=True)
class Matched:
    """A room shared with the peer: (room id, my label, their label)."""

    room_id: bytes
    my_label: str
    their_label: str


@dataclass(frozen=True)
class Unmatched:
    """A previously shared room is no longer shared."""

    room_id: bytes
    my_label: str
    their_label: str


@dataclass(frozen=True)
class PeerClosed:
    """The peer said goodbye."""

    reason: str


@dataclass(frozen=True)
class Pong:
    """The peer answered a PING (carrying its opaque value back)."""

    opaque: bytes


ControlEvent = Authenticated | Matched | Unmatched | PeerClosed | Pong


def build_transcript(
    dialer_key: bytes,
    listener_key: bytes,
    dialer_nonce: bytes,
    listener_nonce: bytes,
    dialer_fingerprint: bytes,
    listener_fingerprint: bytes,
) -> bytes:
    """The bytes both sides sign and key their room tokens with."""
    return b"".join(
        (
            TRANSCRIPT_CONTEXT,
            dialer_key,
            listener_key,
            dialer_nonce,
            listener_nonce,
            dialer_fingerprint,
            listener_fingerprint,
        )
    )


def proof_message(transcript: bytes, side: Role) -> bytes:
    """What `side` signs to prove its identity in this session."""
    return PROOF_CONTEXT + transcript + bytes((side,))


class ControlProtocol:
    """One session's control channel, from this side's point of view."""

    def __init__(
        self,
        identity: nacl.signing.SigningKey,
        role: Role,
        peer_key: bytes,
        local_fingerprint: bytes,
        remote_fingerprint: bytes,
        secrets: Sequence[RoomSecret] = (),
        *,
        nonce: bytes | None = None,
    ) -> None:
        self.identity = identity
        self.role = role
        self.peer_key = peer_key
        self.local_fingerprint = local_fingerprint
        self.remote_fingerprint = remote_fingerprint
        self.state = ControlState.NEW
        self.matches: set[Match] = set()
        self._secrets: tuple[RoomSecret, ...] = tuple(secrets)
        self._nonce = nonce if nonce is not None else os.urandom(NONCE_SIZE)
        self._transcript: bytes | None = None
        self._their_tokens: bytes | None = None
        self._outbox: list[bytes] = []
        self._events: deque[ControlEvent] = deque()

    # -- outputs ---------------------------------------------------------------------------
    def data_to_send(self) -> list[bytes]:
        """Frames to send on the control channel, in order; the list is drained."""
        out, self._outbox = self._outbox, []
        return out

    def next_event(self) -> ControlEvent | None:
        """The next event, or None."""
        return self._events.popleft() if self._events else None

    # -- inputs ----------------------------------------------------------------------------
    def start(self) -> None:
        """Send our challenge nonce."""
        if self.state is not ControlState.NEW:
            return
        self._outbox.append(encode_frame(FrameType.CHALLENGE, self._nonce))
        self.state = ControlState.CHALLENGED

    def receive(self, data: bytes) -> None:
        """Handle one control frame; FrameError for malformed/out-of-place input, AuthError for a bad proof."""
        frame = decode_frame(data)
        kind = frame.type
        if self.state is ControlState.CLOSED:
            return
        if kind is FrameType.CHALLENGE and self.state is ControlState.NEW:
            self.start()  # theirs came before our channel-open event: challenge first, then answer
        if kind is FrameType.CHALLENGE and self.state is ControlState.CHALLENGED:
            self._on_challenge(exact_size(frame.fields[0], NONCE_SIZE, "nonce"))
        elif kind is FrameType.PROOF and self.state is ControlState.PROVING:
            self._on_proof(exact_size(frame.fields[0], SIGNATURE_SIZE, "signature"))
        elif kind is FrameType.TOKENS and self.state is ControlState.AUTHENTICATED:
            self._on_tokens(frame.fields[0])
        elif kind is FrameType.PING and self.state is not ControlState.NEW:
            self._outbox.append(encode_frame(FrameType.PONG, frame.fields[0]))
        elif kind is FrameType.PONG and self.state is not ControlState.NEW:
            self._events.append(Pong(frame.fields[0]))
        elif kind is FrameType.BYE:
            self.state = ControlState.CLOSED
            reason = frame.fields[0].decode("utf-8", errors="replace")
            self._events.append(PeerClosed(reason))
        else:
            raise FrameError(f"{kind.name} out of place in state {self.state.value}")

    def set_secrets(self, secrets: Sequence[RoomSecret]) -> None:
        """Replace our secrets: resend tokens and recompute matches if authenticated."""
        self._secrets = tuple(secrets)
        if self.state is ControlState.AUTHENTICATED:
            self._send_tokens()
            if self._their_tokens is not None:
                self._rematch(self._their_tokens)

    def ping(self, opaque: bytes = b"") -> None:
        """Queue a keepalive ping."""
        if self.state is not ControlState.CLOSED:
            self._outbox.append(encode_frame(FrameType.PING, opaque[:16]))

    def close(self, reason: str) -> None:
        """Queue a goodbye; nothing else is sent or accepted afterwards."""
        if self.state is not ControlState.CLOSED:
            self._outbox.append(encode_frame(FrameType.BYE, reason.encode("utf-8")[:256]))
            self.state = ControlState.CLOSED

    # -- internals ---------------------------------------------------------------------------
    def _on_challenge(self, their_nonce: bytes) -> None:
        me = bytes(self.identity.verify_key)
        if self.role is Role.DIALER:
            self._transcript = build_transcript(
                me, self.peer_key, self._nonce, their_nonce,
                self.local_fingerprint, self.remote_fingerprint,
            )
        else:
            self._transcript = build_transcript(
                self.peer_key, me, their_nonce, self._nonce,
                self.remote_fingerprint, self.local_fingerprint,
            )
        signature = self.identity.sign(proof_message(self._transcript, self.role)).signature
        self._outbox.append(encode_frame(FrameType.PROOF, signature))
        self.state = ControlState.PROVING

    def _on_proof(self, signature: bytes) -> None:
        assert self._transcript is not None
        their_side = Role(1 - self.role)
        try:
            nacl.signing.VerifyKey(self.peer_key).verify(
                proof_message(self._transcript, their_side), signature
            )
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError):
            self.state = ControlState.CLOSED
            raise AuthError("peer's proof does not verify for this key and DTLS session") from None
        self.state = ControlState.AUTHENTICATED
        self._events.append(Authenticated())
        self._send_tokens()

    def _send_tokens(self) -> None:
        assert self._transcript is not None
        self._outbox.append(
            encode_frame(FrameType.TOKENS, make_tokens(self._secrets, self._transcript, self.role))
        )

    def _on_tokens(self, field: bytes) -> None:
        try:
            self._rematch(field)
        except ValueError as exc:
            raise FrameError(f"bad token list: {exc}") from None
        self._their_tokens = field

    def _rematch(self, field: bytes) -> None:
        assert self._transcript is not None
        new = match_tokens(field, self._secrets, self._transcript, 1 - self.role)
        for room_id, mine, theirs in sorted(self.matches - new):
            self._events.append(Unmatched(room_id, mine, theirs))
        for room_id, mine, theirs in sorted(new - self.matches):
            self._events.append(Matched(room_id, mine, theirs))
        self.matches = new
