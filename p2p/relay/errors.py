"""The relay's errors: one sentence each, for the user; all are `p2p.errors.P2PError`s."""

from __future__ import annotations

from p2p.errors import P2PError


class RelayError(P2PError):
    """Something about a relay went wrong; the message is one sentence a user can read."""


class RelayQuotaError(RelayError):
    """The relay refused a request because a limit was crossed (a quota, a rate or a size)."""


class RelayUnavailable(RelayError):
    """There is no connection to the relay (not yet connected, or the connection was lost)."""
