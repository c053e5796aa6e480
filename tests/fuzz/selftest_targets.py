"""Deliberately broken decoders, to show that the harness and the atheris run do catch violations."""

from __future__ import annotations

from .harness import Target


class Rejected(ValueError):
    """The declared error of the self-test decoders."""


def _crashes_on_magic(data: bytes) -> bytes:
    """A decoder with a bug: input that starts with b"FUZZ" raises KeyError, not its declared error."""
    if data[:4] == b"FUZZ":
        raise KeyError("undeclared")
    if not data:
        raise Rejected("empty")
    return data


def _pads(data: bytes) -> bytes:
    """A decoder that accepts a leading zero byte it does not re-encode: not canonical."""
    if not data:
        raise Rejected("empty")
    return data.lstrip(b"\x00") or b"\x01"


TARGETS = [
    Target("selftest.crash", _crashes_on_magic, (Rejected,), max_len=64, no_encoder="self-test"),
    Target("selftest.noncanonical", _pads, (Rejected,), encode=lambda r: r, canonical=True, max_len=64),
]
