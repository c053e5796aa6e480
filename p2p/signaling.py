"""The signaling endpoint's byte stream: length-prefixed frames over asyncio TCP streams.

Protocol on one TCP connection (the dialer connected to the listener's endpoint)::

    listener -> dialer   HELLO  [listener public key]
    dialer   -> listener OFFER  [signed, addressed to that key]      (p2p.signal_message)
    listener -> dialer   ANSWER [signed, same session id]  or  REJECT [reason]
    both close the connection; ICE, DTLS and SCTP follow directly between the peers.

A relay would speak the same frames, routing OFFER/ANSWER by recipient key; HELLO is then the
relay telling a client who is reachable.
"""

from __future__ import annotations

import asyncio

from p2p.errors import FrameError
from p2p.frames import (
    FIELD_PREFIX,
    MAX_SIGNAL_FRAME_SIZE,
    Frame,
    FrameType,
    decode_frame,
    encode_frame,
    stream_length,
    stream_prefix,
)


async def async_read_frame(reader: asyncio.StreamReader, timeout: float) -> Frame:
    """Read one length-prefixed frame; FrameError on bad input, EOF or timeout."""
    try:
        prefix = await asyncio.wait_for(reader.readexactly(FIELD_PREFIX), timeout)
        length = stream_length(prefix, max_size=MAX_SIGNAL_FRAME_SIZE)
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
    except asyncio.IncompleteReadError:
        raise FrameError("connection closed mid-frame") from None
    except asyncio.TimeoutError:
        raise FrameError("timed out waiting for a signaling frame") from None
    except (ConnectionError, OSError) as exc:
        raise FrameError(f"connection error: {exc}") from None
    return decode_frame(body, max_size=MAX_SIGNAL_FRAME_SIZE)


def write_frame(writer: asyncio.StreamWriter, frame: bytes) -> None:
    """Queue one frame, with its length prefix, on `writer`."""
    writer.write(stream_prefix(frame) + frame)


def reject_frame(reason: str) -> bytes:
    """A REJECT frame carrying a short reason."""
    return encode_frame(FrameType.REJECT, reason.encode("utf-8")[:256])


async def async_close_writer(writer: asyncio.StreamWriter) -> None:
    """Close a stream writer, ignoring the errors of a peer that already went away."""
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except (ConnectionError, OSError, asyncio.TimeoutError):
        pass
