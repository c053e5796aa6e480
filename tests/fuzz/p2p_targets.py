"""Fuzz targets for p2p/: wire frames, the signaling stream, signed offers and answers, the control
protocol after (and during) the handshake, and mDNS TXT records."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from zeroconf import ServiceInfo

from p2p.control import ControlProtocol, ControlState, Role
from p2p.discovery import ROOM_SERVICE
from p2p.public_rooms import parse_room, room_properties
from p2p.errors import AuthError, FrameError, SignalingError
from p2p.frames import (
    MAX_SIGNAL_FRAME_SIZE,
    Frame,
    FrameType,
    decode_frame,
    encode_frame,
    stream_prefix,
)
from p2p.rooms import PublicRoom, RoomSecret
from p2p.signal_message import _signed_part, sign_signal, verify_signal
from p2p.signaling import async_read_frame

from .fixtures import (
    ATTACKER,
    FINGERPRINT_ME,
    FINGERPRINT_PEER,
    ME,
    NONCE_ME,
    NONCE_PEER,
    PEER,
    ROOM_ID,
    blob,
    pub,
    sdp_with,
)
from .harness import Target

Seeds = dict[str, list[tuple[str, bytes]]]


def _encode(frame: Frame) -> bytes:
    return encode_frame(frame.type, *frame.fields)


# ----- the signaling stream ---------------------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None


def _read_stream(data: bytes) -> tuple[list[Frame], bytes]:
    """Every frame the signaling reader takes off a stream holding `data`, and what it left."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()

    async def read_all() -> tuple[list[Frame], bytes]:
        reader = asyncio.StreamReader(limit=1 << 20)
        reader.feed_data(data)
        reader.feed_eof()
        frames: list[Frame] = []
        used = 0
        while True:
            try:
                frame = await async_read_frame(reader, 1.0)
            except FrameError:
                return frames, data[used:]
            frames.append(frame)
            used += 4 + len(_encode(frame))

    return _loop.run_until_complete(read_all())


def _encode_stream(result: tuple[list[Frame], bytes]) -> bytes:
    frames, rest = result
    return b"".join(stream_prefix(_encode(f)) + _encode(f) for f in frames) + rest


# ----- signed offers and answers ----------------------------------------------------------------

def _verify_raw(data: bytes) -> Any:
    return verify_signal(decode_frame(data, max_size=MAX_SIGNAL_FRAME_SIZE), me=pub(ME))


def _signed_by_attacker(data: bytes) -> tuple[bytes, Any]:
    """An attacker signs whatever it likes with its own key: byte 0 picks offer/answer and recipient,
    then a 16-byte session id, a 32-byte fingerprint, and the SDP bytes."""
    head = data[:1] or b"\x00"
    kind = FrameType.ANSWER if head[0] & 1 else FrameType.OFFER
    recipient = pub(PEER) if head[0] & 2 else pub(ME)
    session_id = data[1:17].ljust(16, b"\x00")
    fingerprint = data[17:49].ljust(32, b"\x00")
    fields = (pub(ATTACKER), recipient, session_id, data[49:], fingerprint)
    signature = ATTACKER.sign(_signed_part(kind, fields)).signature
    try:
        frame = encode_frame(kind, *fields, signature)
    except FrameError:
        raise _Unsendable() from None  # over a field cap: the attacker cannot send it at all
    return frame, verify_signal(decode_frame(frame, max_size=MAX_SIGNAL_FRAME_SIZE), me=pub(ME))


class _Unsendable(Exception):
    """Input the attacker could not put on the wire."""


def _resign(data: bytes, result: tuple[bytes, Any]) -> None:
    """Canonical: signing the verified message again gives the very frame that was accepted."""
    frame, msg = result
    again = sign_signal(ATTACKER, msg.kind, msg.recipient, msg.session_id, msg.sdp, fingerprint=msg.fingerprint)
    assert again == frame, f"an accepted signed frame re-signs differently: {frame[:80]!r}"


# ----- the control protocol ---------------------------------------------------------------------

SECRETS = [RoomSecret(ROOM_ID, blob("room secret", 32), "room"), RoomSecret(blob("other", 32), blob("s2", 32), "invite:x")]


def _pair() -> tuple[ControlProtocol, ControlProtocol]:
    mine = ControlProtocol(ME, Role.DIALER, pub(PEER), FINGERPRINT_ME, FINGERPRINT_PEER, SECRETS, nonce=NONCE_ME)
    theirs = ControlProtocol(PEER, Role.LISTENER, pub(ME), FINGERPRINT_PEER, FINGERPRINT_ME, SECRETS[:1], nonce=NONCE_PEER)
    return mine, theirs


def _pump(a: ControlProtocol, b: ControlProtocol) -> None:
    for _ in range(4):
        for frame in a.data_to_send():
            b.receive(frame)
        for frame in b.data_to_send():
            a.receive(frame)


def handshake_frames() -> list[bytes]:
    """The frames the honest peer sends in a full handshake, in order (deterministic)."""
    mine, theirs = _pair()
    sent: list[bytes] = []
    mine.start()
    theirs.start()
    for _ in range(4):
        for frame in mine.data_to_send():
            theirs.receive(frame)
        for frame in theirs.data_to_send():
            sent.append(frame)
            mine.receive(frame)
    assert mine.state is ControlState.AUTHENTICATED
    return sent


def _control(data: bytes) -> ControlState:
    """Byte 0 picks the state to start from (new, challenged, proving, authenticated); then chunks
    `[u16 length][bytes]`, each fed to `receive` as one message from the peer. With bit 7 of byte 0
    set, a chunk is `[type][field]` and is framed first, so mutations reach the frame contents."""
    mode = data[0] if data else 0
    start = mode & 3
    mine, theirs = _pair()
    if start >= 1:
        mine.start()
    if start >= 2:
        theirs.start()
        for frame in theirs.data_to_send():
            mine.receive(frame)  # their CHALLENGE: now PROVING
    if start >= 3:
        for frame in mine.data_to_send():
            theirs.receive(frame)
        _pump(mine, theirs)
        assert mine.state is ControlState.AUTHENTICATED
    mine.data_to_send()
    pos = 1
    while pos + 2 <= len(data):
        (length,) = struct.unpack_from(">H", data, pos)
        chunk = data[pos + 2 : pos + 2 + length]
        pos += 2 + length
        if mode & 0x80 and chunk:
            try:
                chunk = encode_frame(FrameType(chunk[0]), *_fields(FrameType(chunk[0]), chunk[1:]))
            except (ValueError, FrameError):
                continue
        try:
            mine.receive(chunk)
        except (FrameError, AuthError):
            pass
        mine.data_to_send()
        while mine.next_event() is not None:
            pass
    return mine.state


def _fields(kind: FrameType, body: bytes) -> tuple[bytes, ...]:
    if kind is FrameType.DATA:
        return body[:32], body[32:]
    if kind in (FrameType.OFFER, FrameType.ANSWER):
        return body[:32], body[32:64], body[64:80], body[80:-96], body[-96:-64], body[-64:]
    return (body,)


# ----- mDNS TXT records -------------------------------------------------------------------------

def _txt(data: bytes) -> Any:
    props = ServiceInfo(ROOM_SERVICE, f"x.{ROOM_SERVICE}", port=1, properties=data).properties
    return parse_room(props, "192.0.2.1", 1)


def _room_txt_roundtrip(data: bytes, result: Any) -> None:
    """A room record we accept, announced again by us, parses to the same room (names may be trimmed)."""
    if result is None:
        return
    again_props = room_properties(PEER, PublicRoom(result.room_id, result.name, result.tags, result.member_count,
                                                   result.owner_key, result.owner_name), result.node_id)
    again = ServiceInfo(ROOM_SERVICE, f"x.{ROOM_SERVICE}", port=1, properties=dict(again_props)).properties
    back = parse_room(again, "192.0.2.1", 1)
    assert back is not None, f"our own announcement of {result!r} does not parse"
    assert (back.room_id, back.member_count, back.node_id, back.owner_key) == (
        result.room_id, result.member_count, result.node_id, result.owner_key), (result, back)


TARGETS = [
    Target("p2p.frames.decode_frame", decode_frame, (FrameError,), encode=_encode, canonical=True, max_len=8192),
    Target("p2p.signaling.async_read_frame", _read_stream, (), encode=_encode_stream, canonical=True, max_len=8192),
    Target("p2p.signal_message.verify_signal", _verify_raw, (FrameError, SignalingError),
           no_encoder="only our own signed frames are accepted; the signed target re-signs"),
    Target("p2p.signal_message.signed_by_attacker", _signed_by_attacker, (FrameError, SignalingError, _Unsendable),
           check=_resign, max_len=8192, no_encoder="checked by signing the verified message again"),
    Target("p2p.control.receive", _control, (), max_len=8192,
           no_encoder="a state machine: frames in, frames and events out"),
    Target("p2p.discovery.txt", _txt, (), check=_room_txt_roundtrip, max_len=1024,
           no_encoder="TXT values are trimmed and repaired on the way in; the room round trip is checked instead"),
]


# ----- seeds -------------------------------------------------------------------------------------

def seeds() -> Seeds:
    sdp = sdp_with(FINGERPRINT_PEER)
    offer = sign_signal(PEER, FrameType.OFFER, pub(ME), blob("sid", 16), sdp)
    answer = sign_signal(PEER, FrameType.ANSWER, pub(ME), blob("sid", 16), sdp)
    frames = [("hello", encode_frame(FrameType.HELLO, pub(PEER), blob("hello nonce", 32))), ("offer", offer),
              ("knock", encode_frame(FrameType.KNOCK, pub(ME), blob("ticket", 64))),
              ("admit", encode_frame(FrameType.ADMIT, b"member")),
              ("reject", encode_frame(FrameType.REJECT, b"busy")),
              ("data", encode_frame(FrameType.DATA, ROOM_ID, b"\x00\x01\x01\x00")),
              ("ping", encode_frame(FrameType.PING, b"1234")), ("bye", encode_frame(FrameType.BYE, b"bye"))]
    stream = [(label, stream_prefix(f) + f) for label, f in frames[:3]]
    stream.append(("two", stream[0][1] + stream[1][1]))
    attacker = [("offer", b"\x00" + blob("sid", 16) + FINGERPRINT_PEER + sdp.encode()),
                ("answer", b"\x01" + blob("sid", 16) + FINGERPRINT_PEER + sdp.encode()),
                ("two-fingerprints", b"\x00" + blob("sid", 16) + FINGERPRINT_PEER + (sdp + sdp_with(FINGERPRINT_ME)).encode()),
                ("other-recipient", b"\x02" + blob("sid", 16) + FINGERPRINT_PEER + sdp.encode())]
    shake = handshake_frames()

    def chunks(mode: int, items: list[bytes]) -> bytes:
        return bytes((mode,)) + b"".join(struct.pack(">H", len(c)) + c for c in items)

    control = [("handshake", chunks(1, shake)),
               ("after-auth", chunks(3, [shake[-1], encode_frame(FrameType.PING, b"x"), encode_frame(FrameType.BYE, b"")])),
               ("proving", chunks(2, shake[1:])),
               ("framed-tokens", chunks(0x83, [bytes((FrameType.TOKENS,)) + decode_frame(shake[-1]).fields[0]])),
               ("framed-garbage", chunks(0x83, [b"\x12" + bytes(136), b"\x11" + bytes(64), b"\x10" + bytes(32)]))]
    room = room_properties(PEER, PublicRoom(ROOM_ID, "lobby", ("games", "lan"), 3, pub(PEER), "olivia"), "0123abcd")
    room_raw = b"".join(bytes((len(r),)) + r for r in (f"{k}={v}".encode() for k, v in room.items()))
    peer_raw = b"\x03v=2\x0bid=0123abcd"
    return {
        "p2p.frames.decode_frame": frames,
        "p2p.signaling.async_read_frame": stream,
        "p2p.signal_message.verify_signal": [("offer", offer), ("answer", answer)],
        "p2p.signal_message.signed_by_attacker": attacker,
        "p2p.control.receive": control,
        "p2p.discovery.txt": [("room", room_raw), ("peer", peer_raw), ("empty", b""),
                              ("bad", b"\x05v=1\x00\x08members=")],
    }

