"""The signaling protocol, both halves, over any signaling path's `Conversation`.

    listener -> dialer   HELLO  [listener key, fresh nonce]
    dialer   -> listener KNOCK  [dialer key, admission tickets over (nonce, both keys)]
    listener -> dialer   ADMIT  [lane]                 or REJECT [busy | banned | glare | ...]
    dialer   -> listener OFFER  [signed SDP]           (built only now, on both sides)
    listener -> dialer   ANSWER [signed SDP]           or REJECT [reason]

The listener spends nothing on a peer connection before the knock is admitted (p2p.admission):
tickets cost one BLAKE2b per secret to check, and a knock proving no room is admitted only
within the strangers' small budget. The dialer builds its own peer connection only once
admitted, so a hostile endpoint cannot make it build one either.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable

import nacl.signing

from p2p.admission import BUSY, Admission, Lane
from p2p.config import Timings
from p2p.control import Role
from p2p.errors import BannedError, FrameError, SignalingError, WrongKeyError
from p2p.frames import KEY_SIZE, NONCE_SIZE, SESSION_ID_SIZE, FrameType, encode_frame, exact_size, expect
from p2p.room_tokens import TicketBook, admission_transcript, make_tickets
from p2p.rooms import RoomSecret
from p2p.routes import Conversation
from p2p.session import Session
from p2p.session_table import SessionTable
from p2p.signal_message import sign_signal, verify_signal
from p2p.signaling import reject_frame

log = logging.getLogger(__name__)

SessionFactory = Callable[[Role, bytes], Session]


async def _ready() -> None:
    return None


class Signaling:
    """Dials and answers signaling conversations, and turns admitted ones into sessions."""

    def __init__(self, identity: nacl.signing.SigningKey, timings: Timings, table: SessionTable,
                 admission: Admission, new_session: SessionFactory,
                 ice_ready: Callable[[], Awaitable[None]] = _ready) -> None:
        self.identity = identity
        self.public_key = bytes(identity.verify_key)
        self.timings = timings
        self.table = table
        self.admission = admission
        self.new_session = new_session
        self.ice_ready = ice_ready
        """Awaited before a session off the LAN is built (the node's UDP probe of the TURN server)."""
        self.tickets = TicketBook()
        self.malformed = 0
        """Malformed or forged signaling seen when answering (not tied to a key)."""

    def set_secrets(self, secrets: list[RoomSecret]) -> None:
        self.tickets = TicketBook(secrets)

    # -- dialer ----------------------------------------------------------------------------------------
    async def async_dial(self, conv: Conversation, expect_key: bytes | None = None) -> bytes:
        """Signal as the dialer, then wait for the session to authenticate; returns the peer key.

        `expect_key`: only that key may answer (`WrongKeyError` otherwise, before anything is sent).
        """
        timeout = self.timings.signal_timeout
        session: Session | None = None
        peer = b""
        counted = False
        try:
            hello = expect(await conv.async_receive(timeout), FrameType.HELLO)
            peer = exact_size(hello.fields[0], KEY_SIZE, "hello key")
            nonce = exact_size(hello.fields[1], NONCE_SIZE, "hello nonce")
            if peer == self.public_key:
                raise SignalingError("dialed our own endpoint")
            if expect_key is not None and peer != expect_key:
                raise WrongKeyError("another key answered at that address")
            if self.table.is_banned(peer):
                raise BannedError("that peer is banned")
            if (self.table.live(peer) is not None or self.table.dialing.get(peer)
                    or self.admission.half_open_for(peer)):  # it is dialing us: no second session
                await conv.async_close()
                await self.table.async_wait_for_peer(peer, self.timings.handshake_timeout)
                return peer
            self.table.dialing.add(peer)
            counted = True
            tickets = make_tickets(self.table.secrets, admission_transcript(nonce, self.public_key, peer))
            conv.send(encode_frame(FrameType.KNOCK, self.public_key, tickets))
            await conv.async_flush()
            reply = await conv.async_receive(timeout)
            if reply.type is FrameType.REJECT:
                reason = reply.fields[0].decode("utf-8", errors="replace")
                if reason == "glare":
                    await self.table.async_wait_for_peer(peer, self.timings.handshake_timeout)
                    return peer
                raise SignalingError(f"peer rejected the knock: {reason}")
            expect(reply, FrameType.ADMIT)
            if conv.route != "lan":
                await self.ice_ready()
            session = self.new_session(Role.DIALER, peer)
            session.base_route = conv.route
            sdp = await session.async_create_offer()
            session_id = os.urandom(SESSION_ID_SIZE)
            conv.send(sign_signal(self.identity, FrameType.OFFER, peer, session_id, sdp))
            await conv.async_flush()
            reply = await conv.async_receive(timeout)
            if reply.type is FrameType.REJECT:
                reason = reply.fields[0].decode("utf-8", errors="replace")
                raise SignalingError(f"peer rejected the offer: {reason}")
            answer = verify_signal(reply, me=self.public_key)
            if answer.kind is not FrameType.ANSWER or answer.sender != peer:
                raise SignalingError("answer from an unexpected key")
            if answer.session_id != session_id:
                raise SignalingError("answer for another session")
            await session.async_accept_answer(answer.sdp, answer.fingerprint)
            await conv.async_close()
            if not await session.async_wait_authenticated(session.handshake_limit()):
                reason = session.close_reason or "timed out"
                raise SignalingError(f"session did not authenticate: {reason}")
            return peer
        except FrameError as exc:
            raise SignalingError(f"bad signaling: {exc}") from None
        except (ConnectionError, OSError) as exc:
            raise SignalingError(f"signaling connection lost: {exc}") from None
        except BaseException:
            if session is not None:
                await session.async_close("dial failed")
            raise
        finally:
            await conv.async_close()
            if counted:
                self.table.dialing.remove(peer)

    # -- listener ------------------------------------------------------------------------------------
    async def async_answer(self, conv: Conversation) -> None:
        """Answer one conversation a peer opened: HELLO, KNOCK, admission, OFFER, ANSWER."""
        if not self.admission.open_conversation(conv.source, time.monotonic()):
            await conv.async_close()
            return
        try:
            await self._async_answer(conv)
        except (FrameError, SignalingError) as exc:
            if isinstance(exc, FrameError) or "signature" in str(exc) or "fingerprint" in str(exc):
                self.malformed += 1
            log.debug("rejected signaling from %s: %s", conv.source, exc)
            await self._async_reject(conv, str(exc) if isinstance(exc, SignalingError) else "malformed")
        except (ConnectionError, OSError) as exc:
            log.debug("signaling connection lost: %s", exc)
        except Exception:
            log.exception("unexpected error on the signaling endpoint")
        finally:
            self.admission.close_conversation(conv.source)
            await conv.async_close()

    async def _async_answer(self, conv: Conversation) -> None:
        timeout = self.timings.signal_timeout
        nonce = os.urandom(NONCE_SIZE)
        conv.send(encode_frame(FrameType.HELLO, self.public_key, nonce))
        await conv.async_flush()
        knock = expect(await conv.async_receive(timeout), FrameType.KNOCK)
        peer = exact_size(knock.fields[0], KEY_SIZE, "knock key")
        self._check_peer(peer)
        try:
            proven = self.tickets.proven(knock.fields[1], admission_transcript(nonce, peer, self.public_key))
        except ValueError as exc:
            raise FrameError(f"bad tickets: {exc}") from None
        lane = Lane.MEMBER if any(not s.open for s in proven) else Lane.STRANGER
        slot = self.admission.admit(lane, conv.source, peer, time.monotonic())
        if slot is None:
            raise SignalingError(BUSY)
        session: Session | None = None
        try:
            conv.send(encode_frame(FrameType.ADMIT, lane.value.encode()))
            await conv.async_flush()
            offer = verify_signal(await conv.async_receive(timeout), me=self.public_key)
            if offer.kind is not FrameType.OFFER or offer.sender != peer:
                raise SignalingError("expected an offer signed by the key that knocked")
            self._check_peer(peer)
            if conv.route != "lan":
                await self.ice_ready()
                self._check_peer(peer)
            session = self.new_session(Role.LISTENER, peer)
            self.table.slots[session] = slot  # released when the session closes
            session.base_route = conv.route
            if lane is Lane.STRANGER:
                session.handshake_timeout = self.timings.stranger_handshake_timeout
                session.patient = False
            sdp = await session.async_accept_offer(offer.sdp, offer.fingerprint)
            conv.send(sign_signal(self.identity, FrameType.ANSWER, peer, offer.session_id, sdp))
            await conv.async_flush()
        except BaseException:
            if session is not None:
                await session.async_close("signaling failed")
            self.admission.release(slot)
            raise

    def _check_peer(self, peer: bytes) -> None:
        if peer == self.public_key:
            raise SignalingError("knock with our own key")
        if self.table.is_banned(peer):
            raise SignalingError("banned")
        if self.table.dialing.get(peer) and self.public_key < peer:
            raise SignalingError("glare")

    async def _async_reject(self, conv: Conversation, reason: str) -> None:
        try:
            conv.send(reject_frame(reason))
            await asyncio.wait_for(conv.async_flush(), 1.0)
        except (FrameError, ConnectionError, OSError, asyncio.TimeoutError):  # the peer is gone: nobody to tell
            pass
