"""The p2p error hierarchy: every error this package raises on purpose is a `P2PError`."""

from __future__ import annotations


class P2PError(Exception):
    """Base class of every error raised by the p2p layer."""


class FrameError(P2PError):
    """A wire frame is malformed, oversized, of an unknown version or type, or out of place."""


class SignalingError(P2PError):
    """A signaling exchange failed: bad signature, wrong recipient, fingerprint mismatch, rejection."""


class AuthError(P2PError):
    """The in-session challenge-response failed: the peer did not prove its identity key."""


class BannedError(P2PError):
    """The peer is banned for a while after repeated invalid input."""


class NotConnectedError(P2PError):
    """There is no open, authenticated session (or channel) with that peer."""


class NotSharedError(P2PError):
    """The peer has not proven that it holds a secret for that room, so nothing is sent."""


class WrongKeyError(SignalingError):
    """Another key answered where a known peer was expected (a spoofed or reused address)."""
